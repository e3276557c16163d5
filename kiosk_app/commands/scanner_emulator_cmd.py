"""`kiosk scanner-emulator`: play a slip scanner on a pty; every line typed on stdin is one scan."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from madoguchi.contracts.orders import slip_qr_payload

__all__ = ["register"]

_logger = logging.getLogger(__name__)


def _run(args: argparse.Namespace) -> int:
    from device_drivers.scanner import PtyScannerEmulator

    emulator = PtyScannerEmulator(
        Path(args.link_file) if args.link_file else None, Path(args.symlink) if args.symlink else None
    )
    path = emulator.open()
    print(
        f"slip scanner on serial://{args.symlink or path}; type a code (or ORDER_CODE AMOUNT for a slip QR) "
        "and Enter to scan it; Ctrl-D ends",
        flush=True,
    )
    try:
        for line in sys.stdin:
            text = line.strip()
            if not text:
                continue
            code, _, amount = text.partition(" ")
            emulator.scan(slip_qr_payload(code, int(amount)) if amount.isdigit() else text)
            print(f"scanned {text}", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        emulator.close()
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `scanner-emulator`."""
    parser = subparsers.add_parser(
        "scanner-emulator",
        help="play a serial slip scanner on a pty; each stdin line is a scan",
        description=(
            "Serve a simulated barcode/QR scanner on a pseudo-terminal: each line read from stdin is sent as "
            "one scan ended by CR, as scanners in presentation mode do. Point the kiosk's [devices] scanner "
            "at serial://<the printed path>."
        ),
    )
    parser.add_argument("--link-file", default=None, help="file that receives the pty slave path")
    parser.add_argument("--symlink", default=None, help="stable symlink to the slave")
    parser.set_defaults(func=_run)
