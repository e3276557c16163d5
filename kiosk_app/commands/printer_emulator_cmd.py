"""`kiosk printer-emulator`: run the virtual ESC/POS printer until interrupted."""

from __future__ import annotations

import argparse
import logging
import threading
from pathlib import Path

from madoguchi.errors import UserError

__all__ = ["register"]

_logger = logging.getLogger(__name__)


def _run(args: argparse.Namespace) -> int:
    from device_drivers.printer.emulator import VirtualPrinterServer
    from device_drivers.printer.emulator.capabilities import Capabilities
    from device_drivers.printer.errors import PrinterConfigError

    state = Path(args.state_file) if args.state_file else None
    try:
        capabilities = Capabilities.of_escpos_model(args.model) if args.model else None
    except PrinterConfigError as exc:
        raise UserError(
            str(exc), "use a model name of python-escpos' list, e.g. TM-T20II or ZJ-5870"
        ) from exc
    server = VirtualPrinterServer(
        Path(args.out), port=args.port, state_file=state, width=args.width, capabilities=capabilities
    )
    try:
        server.start(with_pty=args.pty)
    except OSError as exc:
        raise UserError(
            f"cannot listen on 127.0.0.1:{args.port}: {exc}", "choose another --port (0 = any free port)"
        ) from exc
    print(
        f"virtual printer: {server.url}"
        + (f" and escpos+serial://{server.pty_path}" if server.pty_path else "")
    )
    print(
        f"jobs go to {Path(args.out).resolve()}; state from {state or 'defaults (healthy)'}; Ctrl-C to stop"
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `printer-emulator`."""
    parser = subparsers.add_parser(
        "printer-emulator",
        help="run the virtual ESC/POS printer (PNG + JSON per job, status from a state file)",
        description=(
            "Serve a virtual receipt printer on 127.0.0.1. Each job is written to --out as job-NNNN.png and "
            "job-NNNN.json. DLE EOT answers come from --state-file, re-read on every query: "
            '{"online": true, "paper": "ok|near-end|out", "cover": "closed|open"}.'
        ),
    )
    parser.add_argument("--port", type=int, default=9100, help="TCP port (default 9100; 0 = any free port)")
    parser.add_argument("--out", required=True, help="directory for job PNG and JSON files")
    parser.add_argument("--state-file", default=None, help="JSON state file (default: a healthy printer)")
    parser.add_argument("--pty", action="store_true", help="also serve on a pseudo-terminal (printed path)")
    parser.add_argument("--width", type=int, default=576, help="dots per line (576, 512 or 384)")
    parser.add_argument(
        "--model",
        default=None,
        help="behave as this python-escpos printer model (e.g. ZJ-5870: a 58 mm printer without native QR, "
        "barcode or cutter); default: every command",
    )
    parser.set_defaults(func=_run)
