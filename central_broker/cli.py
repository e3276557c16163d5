"""The `kiosk-central` command: everything that runs at the centre."""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from madoguchi.cli import Command, build_parser, run_main

__all__ = ["main"]

# One line per command module in central_broker/commands/, in the order --help lists them.
COMMAND_MODULES = (
    "serve_cmd",
    "broker_cmd",
    "catalog_cmd",
    "fleet_cmd",
    "command_cmd",
    "diagnostics_cmd",
    "rollout_cmd",
    "schemas_cmd",
    "config_cmd",
    "ca_cmd",
    "enrol_cmd",
    "release_cmd",
    "issuance_cmd",
    "users_cmd",
    "orders_cmd",
)

DESCRIPTION = "Madoguchi central: broker set-up, ingest and fleet view, catalogs and the contract schemas."


def _commands() -> list[Command]:
    # Imported here, not at module import, so start-up only loads what the command needs.
    return [importlib.import_module(f"central_broker.commands.{name}") for name in COMMAND_MODULES]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `kiosk-central` console script."""
    return run_main(build_parser("kiosk-central", DESCRIPTION, _commands()), argv)
