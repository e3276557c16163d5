"""`kiosk card-emulator`: insert an emulated My Number card into pcscd's vpcd reader; Ctrl-C
removes it. Test PINs: auth/券面事項入力補助 1234 (券面事項入力補助 5678 on kenhojo-pin-differs),
signature password MADO1234.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from madoguchi.cli import add_json_flag, emit
from madoguchi.errors import UserError
from madoguchi.signals import stop_on_signals

__all__ = ["register", "run"]

_logger = logging.getLogger(__name__)


def _list(args: argparse.Namespace) -> int:
    from device_drivers.card.emulator.personas import PERSONAS

    rows = [
        {"name": p.name, "kind": p.kind.value, "auth_tries": p.auth_tries, "description": p.description}
        for p in PERSONAS
    ]
    emit(rows, args.json, lambda: "\n".join(f"{r['name']:<18} {r['description']}" for r in rows))
    return 0


def run(args: argparse.Namespace) -> int:
    """Insert the persona's card and serve it until Ctrl-C or SIGTERM."""
    if args.list_personas:
        return _list(args)
    if not args.persona:
        raise UserError("no persona given", "pass --persona NAME (see --list-personas)")
    from device_drivers.card.emulator.material import default_data_dir
    from device_drivers.card.emulator.personas import persona_by_name
    from device_drivers.card.emulator.transport import EmulatorBank
    from device_drivers.card.emulator.vpcd import VpcdLink

    persona_by_name(args.persona)  # clear error before any key generation
    bank = EmulatorBank(args.data_dir or default_data_dir())
    card = bank.card(args.persona)
    link = VpcdLink(card, args.vpcd_host, args.vpcd_port)
    print(
        f"inserting {args.persona} into vpcd at {args.vpcd_host}:{args.vpcd_port}; Ctrl-C removes it",
        flush=True,
    )
    with stop_on_signals() as signalled:
        link.insert(wait=None)
        try:
            # Ctrl-C and SIGTERM set `signalled`; no KeyboardInterrupt lands inside the card's code.
            signalled.wait()
        finally:
            link.remove()
            print("card removed", flush=True)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `card-emulator`."""
    help_text = "insert an emulated My Number card into pcscd's virtual reader (vpcd); Ctrl-C removes it"
    parser = subparsers.add_parser("card-emulator", help=help_text, description=help_text)
    parser.add_argument("--persona", metavar="NAME", help="which card to emulate (see --list-personas)")
    parser.add_argument("--list-personas", action="store_true", help="list the personas and exit")
    parser.add_argument("--vpcd-host", default="127.0.0.1", help="where vpcd listens (default 127.0.0.1)")
    parser.add_argument(
        "--vpcd-port", type=int, default=35963, help="vpcd port: 35963 = 'Virtual PCD 00 00' (default)"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="keep the test CA and persona keys here (default: $MADOGUCHI_CARD_EMULATOR_DIR or cache)",
    )
    add_json_flag(parser)
    parser.set_defaults(func=run)
