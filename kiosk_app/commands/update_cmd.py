"""`kiosk update apply|apply-pending|status|rollback`: install signed releases side by side, with a health gate
and rollback. `apply-pending` installs the bundle the fleet agent downloaded and verified (`pending.json`);
the image's `kiosk-update.path` unit runs it."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
from pathlib import Path

from kiosk_app.agent.release_update import PENDING_FILE, read_progress
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
    pending = sub.add_parser(
        "apply-pending",
        help="install the release the fleet agent downloaded and verified (releases/pending.json), if any",
        description="Install <data-dir>/releases/pending.json's bundle like `update apply`, then remove it. The "
        "image's kiosk-update.path unit runs this; the result is reported to the centre by the app.",
    )
    pending.add_argument(
        "--keys",
        type=Path,
        default=DEFAULT_KEYS,
        help=f"trusted release public key(s) (default {DEFAULT_KEYS})",
    )
    _common(pending, gate=True)
    pending.set_defaults(func=_apply_pending)
    status = sub.add_parser(
        "status",
        help="show the current, previous and installed releases, a fleet update in progress, and recent attempts",
    )
    _common(status, gate=False)
    status.set_defaults(func=_status)
    rollback = sub.add_parser("rollback", help="switch back to the previous release (health-checked)")
    _common(rollback, gate=True)
    rollback.set_defaults(func=_rollback)


def _gate(args: argparse.Namespace) -> tuple[ReadinessCheck, CommandRestarter]:
    restarter = CommandRestarter(shlex.split(args.restart_cmd)) if args.restart_cmd else CommandRestarter()
    return ReadinessCheck(args.ready_file), restarter


def _status_dict(status: ReleaseStatus, releases: Path) -> dict[str, object]:
    return {
        **status.__dict__,
        "pending": _pending(releases),
        "fleet_update": read_progress(releases).get("step"),
    }


def _pending(releases: Path) -> dict[str, object] | None:
    try:
        raw = json.loads((releases / PENDING_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return None
    return raw if isinstance(raw, dict) else None


def _text(status: ReleaseStatus, releases: Path | None = None) -> str:
    lines = [
        f"current:   {status.current or '-'}",
        f"previous:  {status.previous or '-'}",
        f"highest:   {status.highest or '-'}",
        f"installed: {', '.join(status.installed) or '-'}",
    ]
    step = read_progress(releases).get("step") if releases is not None else None
    if isinstance(step, dict):
        at = dt.datetime.fromtimestamp(int(step.get("at", 0)), dt.UTC).strftime("%Y-%m-%d %H:%M")
        lines.append(f"fleet update: release {step.get('version')} {step.get('status')} at {at}"
                     + (f" — {step.get('detail')}" if step.get("detail") else ""))  # fmt: skip
    pending = _pending(releases) if releases is not None else None
    if pending is not None:
        lines.append(f"pending:   {pending.get('version')} (verified, waiting for the installer)")
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


def _apply_pending(args: argparse.Namespace) -> int:
    releases = args.data_dir / "releases"
    pending = _pending(releases)
    if pending is None:
        emit({"pending": None}, args.json, "no release is waiting to be installed")
        return 0
    bundle = Path(str(pending.get("bundle", "")))
    health, restarter = _gate(args)
    try:
        status = ReleaseManager(args.data_dir).apply(
            bundle, load_public_keys(args.keys), health, restarter, args.timeout
        )
    finally:  # the outcome is in the release history, which the app reports; never retry by itself
        (releases / PENDING_FILE).unlink(missing_ok=True)
        if bundle.parent == releases / "incoming":
            bundle.unlink(missing_ok=True)
    emit(_status_dict(status, releases), args.json, lambda: _text(status, releases))
    return 0


def _status(args: argparse.Namespace) -> int:
    releases = args.data_dir / "releases"
    status = ReleaseManager(args.data_dir).status()
    emit(_status_dict(status, releases), args.json, lambda: _text(status, releases))
    return 0


def _rollback(args: argparse.Namespace) -> int:
    health, restarter = _gate(args)
    status = ReleaseManager(args.data_dir).rollback(health, restarter, args.timeout)
    emit(status.__dict__, args.json, lambda: _text(status))
    return 0
