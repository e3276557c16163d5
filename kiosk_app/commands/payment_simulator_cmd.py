"""`kiosk payment-simulator`: play a payment terminal on a pty until interrupted."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path

from madoguchi.errors import UserError

__all__ = ["register"]

_logger = logging.getLogger(__name__)


def _run(args: argparse.Namespace) -> int:
    from device_drivers.payment.simulator.runner import parse_behaviour, start_simulator

    if not args.pty:
        raise UserError("the simulator only serves a pty", "add --pty")
    try:
        behaviour = parse_behaviour(args.script)
    except ValueError as exc:
        raise UserError(str(exc), "see kiosk payment-simulator --help") from exc
    sim = start_simulator(
        behaviour,
        ledger_path=Path(args.ledger) if args.ledger else None,
        link_file=Path(args.link_file) if args.link_file else None,
        symlink=Path(args.symlink) if args.symlink else None,
    )
    print(f"payment terminal simulator ({behaviour.value}) on serial://{sim.path}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `payment-simulator`."""
    from device_drivers.payment.simulator.behaviours import Behaviour

    scripts = "; ".join(f"{b.value}: {b.description}" for b in Behaviour)
    parser = subparsers.add_parser(
        "payment-simulator",
        help="play a KPL v1 payment terminal on a pty (tests, demos)",
        description=f"Serve a simulated payment terminal on a pseudo-terminal. Scripts: {scripts}.",
    )
    parser.add_argument("--pty", action="store_true", help="serve on a new pseudo-terminal pair")
    parser.add_argument("--link-file", default=None, help="file that receives the pty slave path")
    parser.add_argument("--symlink", default=None, help="stable symlink to the slave, re-pointed on re-plug")
    parser.add_argument("--ledger", default=None, help="JSON-lines file recording every real charge")
    parser.add_argument("--script", default="approve", help="behaviour (default approve)")
    parser.set_defaults(func=_run)
