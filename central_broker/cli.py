"""The `kiosk-central` command: everything that runs at the centre.

Only the module of the command that runs is imported (`madoguchi.lazy_commands`), so `--help` and
each command start without loading FastAPI, SQLAlchemy and the other commands' dependencies.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from madoguchi.cli import Command, run_main
from madoguchi.lazy_commands import LazyCommand, build_lazy_parser, command_modules, import_commands

__all__ = ["COMMANDS", "COMMAND_MODULES", "DESCRIPTION", "main"]

_PKG = "central_broker.commands"

# One line per top-level command, in the order --help lists them; the help repeats the module's own
# (tests/test_cli_lazy.py keeps them equal).
COMMANDS = (
    LazyCommand(
        "serve",
        f"{_PKG}.serve_cmd",
        "run the central services (ingest, web dashboard, payment, issuance and queue RPC) until Ctrl-C or SIGTERM",
    ),
    LazyCommand(
        "broker",
        f"{_PKG}.broker_cmd",
        "Mosquitto: write the fleet (mTLS + ACL) or development config, revoke, run",
    ),
    LazyCommand(
        "catalog",
        f"{_PKG}.catalog_cmd",
        "validate, show, sign and publish municipality catalogs; rollout status",
    ),
    LazyCommand(
        "fleet",
        f"{_PKG}.fleet_cmd",
        "list kiosks with status (online/stale/offline/unknown), epoch, versions, health, open alerts",
    ),
    LazyCommand(
        "command",
        f"{_PKG}.command_cmd",
        "send a signed remote command to a kiosk (rebirth, restart_app, maintenance_on/off, …)",
    ),
    LazyCommand(
        "diagnostics",
        f"{_PKG}.diagnostics_cmd",
        "list and read the diagnostics bundles kiosks uploaded (command collect_logs)",
    ),
    LazyCommand(
        "rollout",
        f"{_PKG}.rollout_cmd",
        "staged catalog rollout: test kiosk, pilot city, then 10, 50 and 100 percent of the kiosks",
    ),
    LazyCommand(
        "schemas", f"{_PKG}.schemas_cmd", "export or check the JSON Schemas of the MQTT and catalog contracts"
    ),
    LazyCommand("config", f"{_PKG}.config_cmd", "check the central configuration file (TOML)"),
    LazyCommand(
        "ca", f"{_PKG}.ca_cmd", "the fleet PKI: root, device and service CAs, certificates, revocation"
    ),
    LazyCommand(
        "enrol-token",
        f"{_PKG}.enrol_cmd",
        "issue a one-time enrolment token (and pairing code) for one device",
    ),
    LazyCommand(
        "enrol-serve",
        f"{_PKG}.enrol_cmd",
        "run the HTTPS endpoint for enrolment, renewal and release downloads (mutual TLS)",
    ),
    LazyCommand(
        "release",
        f"{_PKG}.release_cmd",
        "build and sign app release bundles (wheels + Ed25519-signed manifest)",
    ),
    LazyCommand(
        "issuance", f"{_PKG}.issuance_cmd", "certificate issuance: verify printed certificates, kill switch"
    ),
    LazyCommand(
        "users", f"{_PKG}.users_cmd", "manage local accounts of the central web (operator, staff, auditor)"
    ),
    LazyCommand("orders", f"{_PKG}.orders_cmd", "semi-self register payment orders (counter staff)"),
)

COMMAND_MODULES = command_modules(COMMANDS)

DESCRIPTION = "Madoguchi central: broker set-up, ingest and fleet view, catalogs and the contract schemas."


def _commands() -> list[Command]:
    """Every command module, imported (the full command tree, e.g. for tests that walk it)."""
    return import_commands(COMMANDS)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `kiosk-central` console script."""
    args = sys.argv[1:] if argv is None else list(argv)
    return run_main(build_lazy_parser("kiosk-central", DESCRIPTION, COMMANDS, args), args)
