"""The `kiosk` command: everything that runs on a kiosk device.

Only the module of the command that runs is imported (`madoguchi.lazy_commands`): `kiosk --help` and
every command start without loading the others (Kivy, python-escpos, the enrolment client, ...).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from madoguchi.cli import Command, run_main
from madoguchi.lazy_commands import LazyCommand, build_lazy_parser, command_modules, import_commands

__all__ = ["COMMANDS", "COMMAND_MODULES", "DESCRIPTION", "main"]

_PKG = "kiosk_app.commands"

# One line per top-level command, in the order --help lists them; the help repeats the module's own
# (tests/test_cli_lazy.py keeps them equal).
COMMANDS = (
    LazyCommand(
        "run", f"{_PKG}.run_cmd", "run the kiosk (touchscreen app and fleet link) until Ctrl-C or SIGTERM"
    ),
    LazyCommand(
        "diag", f"{_PKG}.diag_cmd", "check the kiosk's devices: readers, printers, payment terminal, scanner"
    ),
    LazyCommand(
        "payment",
        f"{_PKG}.payment_cmd",
        "cashless payments on the terminal: sale, recovery, journal, staff actions",
    ),
    LazyCommand(
        "payment-simulator",
        f"{_PKG}.payment_simulator_cmd",
        "play a KPL v1 payment terminal on a pty (tests, demos)",
    ),
    LazyCommand(
        "scanner-emulator",
        f"{_PKG}.scanner_emulator_cmd",
        "play a serial slip scanner on a pty; each stdin line is a scan",
    ),
    LazyCommand(
        "card-emulator",
        f"{_PKG}.card_emulator_cmd",
        "insert an emulated My Number card into pcscd's virtual reader (vpcd); Ctrl-C removes it",
    ),
    LazyCommand(
        "printer-emulator",
        f"{_PKG}.printer_emulator_cmd",
        "run the virtual ESC/POS printer (PNG + JSON per job, status from a state file)",
    ),
    LazyCommand(
        "print-test",
        f"{_PKG}.print_test_cmd",
        "print a sample ticket, slip, receipt, procedure list (guide) or A4 certificate",
    ),
    LazyCommand("config", f"{_PKG}.config_cmd", "check, write or show the kiosk configuration file (TOML)"),
    LazyCommand(
        "enrol",
        f"{_PKG}.enrol_cmd",
        "enrol this device: key on the device, certificate and configuration from the central",
    ),
    LazyCommand(
        "pair",
        f"{_PKG}.enrol_cmd",
        "first boot without enrol.json: type the device id and pairing code on the touchscreen",
    ),
    LazyCommand("renew", f"{_PKG}.enrol_cmd", "renew the device certificate over mutual TLS when it is due"),
    LazyCommand(
        "update", f"{_PKG}.update_cmd", "install app releases side by side, check their health, roll back"
    ),
    LazyCommand(
        "i18n", f"{_PKG}.i18n_cmd", "translations of the resident-facing texts: report, compile, update"
    ),
)

COMMAND_MODULES = command_modules(COMMANDS)

DESCRIPTION = "Madoguchi kiosk: run the kiosk, check its devices and configuration, run emulators."


def _commands() -> list[Command]:
    """Every command module, imported (the full command tree, e.g. for tests that walk it)."""
    return import_commands(COMMANDS)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `kiosk` console script."""
    args = sys.argv[1:] if argv is None else list(argv)
    return run_main(build_lazy_parser("kiosk", DESCRIPTION, COMMANDS, args), args)
