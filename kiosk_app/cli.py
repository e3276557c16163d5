"""The `kiosk` command: everything that runs on a kiosk device."""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from madoguchi.cli import Command, build_parser, run_main

__all__ = ["main"]

# One line per command module in kiosk_app/commands/, in the order --help lists them.
COMMAND_MODULES = (
    "run_cmd",
    "diag_cmd",
    "payment_cmd",
    "payment_simulator_cmd",
    "scanner_emulator_cmd",
    "card_emulator_cmd",
    "printer_emulator_cmd",
    "print_test_cmd",
    "config_cmd",
    "demo_cmd",
    "enrol_cmd",
    "update_cmd",
    "i18n_cmd",
)

DESCRIPTION = "Madoguchi kiosk: run the kiosk, check its devices and configuration, run emulators and demos."


def _commands() -> list[Command]:
    # Imported here, not at module import, so start-up only loads what the command needs.
    return [importlib.import_module(f"kiosk_app.commands.{name}") for name in COMMAND_MODULES]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `kiosk` console script."""
    return run_main(build_parser("kiosk", DESCRIPTION, _commands()), argv)
