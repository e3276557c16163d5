"""`kiosk update apply|status|rollback`: install signed releases side by side, with a health gate and rollback."""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
from pathlib import Path

from madoguchi.cli import add_json_flag, emit, group
from provisioning.updates import CommandRestarter, ReadinessCheck, ReleaseManager, ReleaseStatus
from provisioning.updates.health import DEFAULT_READY_FILE
from provisioning.updates.keys import load_public_keys

__all__ = ["register"]

DEFAULT_KEYS = Path("/etc/madoguchi/release-keys")


def _common(parser: argparse.ArgumentParser, gate: bool) -> None:
    parser.add_argument("--data-dir", type=Path, default=Path("/data"), help="data partition (default /data)")
    if gate:
        parser.add_argument(
            "--timeout", type=float, default=60, help="seconds for READY + heartbeat (default 60)"
        )
        parser.add_argument(
            "--ready-file",
            type=Path,
            default=DEFAULT_READY_FILE,
            help=f"readiness file the app writes (default {DEFAULT_READY_FILE})",
        )
        parser.add_argument(
            "--restart-cmd",
            help="command that restarts the app (default: systemctl restart kiosk-ui.service)",
        )
    add_json_flag(parser)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `update apply`, `update status` and `update rollback`."""
    sub = group(subparsers, "update", "install app releases side by side, check their health, roll back")
    apply = sub.add_parser(
        "apply", help="verify a signed bundle, install it, switch, and roll back if unhealthy"
    )
    apply.add_argument("bundle", type=Path, help="release bundle (.tar) from `kiosk-central release build`")
    apply.add_argument(
        "--keys",
        type=Path,
        default=DEFAULT_KEYS,
        help=f"trusted release public key(s) (default {DEFAULT_KEYS})",
    )
    _common(apply, gate=True)
    apply.set_defaults(func=_apply)
    status = sub.add_parser(
        "status", help="show the current, previous and installed releases and recent attempts"
    )
    _common(status, gate=False)
    status.set_defaults(func=_status)
    rollback = sub.add_parser("rollback", help="switch back to the previous release (health-checked)")
    _common(rollback, gate=True)
    rollback.set_defaults(func=_rollback)


def _gate(args: argparse.Namespace) -> tuple[ReadinessCheck, CommandRestarter]:
    restarter = CommandRestarter(shlex.split(args.restart_cmd)) if args.restart_cmd else CommandRestarter()
    return ReadinessCheck(args.ready_file), restarter


def _text(status: ReleaseStatus) -> str:
    lines = [
        f"current:   {status.current or '-'}",
        f"previous:  {status.previous or '-'}",
        f"highest:   {status.highest or '-'}",
        f"installed: {', '.join(status.installed) or '-'}",
    ]
    for entry in status.history[-5:]:
        at = dt.datetime.fromtimestamp(int(entry.get("at", 0)), dt.UTC).strftime("%Y-%m-%d %H:%M")  # type: ignore[call-overload]
        lines.append(
            f"  {at} {entry.get('action')} {entry.get('version')}: {entry.get('result')} — {entry.get('detail')}"
        )
    return "\n".join(lines)


def _apply(args: argparse.Namespace) -> int:
    health, restarter = _gate(args)
    manager = ReleaseManager(args.data_dir)
    status = manager.apply(args.bundle, load_public_keys(args.keys), health, restarter, args.timeout)
    emit(status.__dict__, args.json, lambda: _text(status))
    return 0


def _status(args: argparse.Namespace) -> int:
    status = ReleaseManager(args.data_dir).status()
    emit(status.__dict__, args.json, lambda: _text(status))
    return 0


def _rollback(args: argparse.Namespace) -> int:
    health, restarter = _gate(args)
    status = ReleaseManager(args.data_dir).rollback(health, restarter, args.timeout)
    emit(status.__dict__, args.json, lambda: _text(status))
    return 0
