"""`kiosk-central rollout start|status|advance|pause|resume|halt`: staged catalog rollout.

Stages (contract §5): one test kiosk → the pilot municipality → 10 % → 50 % → 100 % of the kiosks;
`advance` publishes the next stage once the current one has applied or failed; the rollout halts by
itself when the current stage's failure rate is over `--max-failure-rate`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from central_broker.catalog_push import SigningKeys
from central_broker.catalog_push.bodies import CatalogBodies
from central_broker.rollout.runner import Rollout, RolloutError, RolloutStatus
from central_broker.rollout.staged import StagedRollout
from central_broker.store import open_store
from madoguchi.cli import add_json_flag, emit, group
from madoguchi.config.central import load_central_config
from madoguchi.contracts.base import municipality_of
from madoguchi.contracts.catalog import parse_catalog
from madoguchi.errors import UserError

__all__ = [
    "add_stage_actions",
    "add_stage_options",
    "parse_percents",
    "register",
    "rollout_text",
    "run_action",
]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `rollout` group."""
    sub = group(
        subparsers,
        "rollout",
        "staged catalog rollout: test kiosk, pilot city, then 10, 50 and 100 percent of the kiosks",
    )
    start = sub.add_parser(
        "start",
        help="validate, sign and publish a catalog to the first stage (the test kiosk)",
        description="Plan the stages over the kiosks of the catalog's municipality (or --devices), publish the "
        "catalog and its desired document to the first stage only.",
    )
    start.add_argument("file", type=Path, help="catalog JSON file")
    start.add_argument(
        "--devices", nargs="+", metavar="ID", help="target kiosks (default: the municipality's)"
    )
    start.add_argument(
        "--test-device", metavar="ID", help="the test kiosk (default: the first in a stable order)"
    )
    add_stage_options(start)
    start.set_defaults(func=_start)
    add_stage_actions(sub, start, _action)


def add_stage_options(start: argparse.ArgumentParser) -> None:
    """`--pilot`, `--stages`, `--max-failure-rate` of a rollout's `start`."""
    start.add_argument("--pilot", metavar="CODE", help="6-digit pilot municipality code (a stage of its own)")
    start.add_argument("--stages", default="10,50,100", help="cumulative percentages after the pilot")
    start.add_argument(
        "--max-failure-rate", type=float, default=0.1, help="halt when more than this share of a stage fails"
    )


def add_stage_actions(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    start: argparse.ArgumentParser,
    action: Callable[[argparse.Namespace], int],
) -> None:
    """`status`, `advance`, `pause`, `resume`, `halt`, and the options every one of them and `start` take."""
    for name, text in (
        ("status", "show the latest rollout, stage by stage"),
        ("advance", "publish the next stage once the current one has applied or failed"),
        ("pause", "stop advancing (what is published stays)"),
        ("resume", "allow advancing again"),
        ("halt", "end the rollout where it is"),
    ):
        parser = sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        parser.set_defaults(func=action, action=name)
    for parser in [start, *(sub.choices[n] for n in ("status", "advance", "pause", "resume", "halt"))]:
        parser.add_argument("--config", type=Path, required=True, help="central TOML file")
        parser.add_argument(
            "--keys",
            type=Path,
            help="signing key folder (default [web] signing_keys_dir, else <data_dir>/signing)",
        )
        add_json_flag(parser)
    start.add_argument(
        "--root-key",
        type=Path,
        help="root key file, only when fleet/keys must be signed (first publish, new catalog key, near expiry)",
    )


def parse_percents(text: str) -> list[int]:
    """`--stages 10,50,100` as numbers."""
    try:
        return [int(p) for p in text.split(",")]
    except ValueError as exc:
        raise UserError(f"--stages {text!r} is not a list of numbers", "e.g. --stages 10,50,100") from exc


def _rollout(args: argparse.Namespace) -> Rollout:
    config = load_central_config(args.config)
    root_key = getattr(args, "root_key", None)
    if root_key is not None and not root_key.is_file():
        raise UserError(f"no root key at {root_key}", "give the path of root.key")
    keys = SigningKeys(args.keys or config.signing_dir, root_key=root_key)
    return Rollout(open_store(config.central.store_url), config.broker_for("catalog"), keys,
                   download_url=config.fleet.download_url, bodies=CatalogBodies.in_data_dir(config.central.data_dir))  # fmt: skip


def rollout_text(status: RolloutStatus) -> str:
    """The human-readable stage table."""
    what = "catalog version" if status.kind == "catalog" else "app release"
    lines = [f"{status.kind} rollout {status.rollout_id}: {what} {status.version}, {status.state}"
             + (f" — {status.reason}" if status.reason else "")]  # fmt: skip
    for s in status.stages:
        mark = "▶" if s.index == status.stage and status.state == "running" else " "
        lines.append(
            f" {mark} {s.index} {s.name:<14} {'published' if s.published else 'waiting  '}  "
            f"{s.current}/{s.targets} current, {s.failed} failed, {s.pending} pending"
        )
    return "\n".join(lines)


def _start(args: argparse.Namespace) -> int:
    rollout = _rollout(args)
    try:
        body = args.file.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {args.file}: {exc.strerror}", "check the path") from exc
    percents = parse_percents(args.stages)
    try:
        devices = args.devices or [
            d.device_id
            for d in rollout.store.devices()
            if municipality_of(d.device_id) == parse_catalog(body, str(args.file)).municipality.code
        ]
        status = rollout.start(
            body, devices, source=str(args.file), test_device=args.test_device, pilot_municipality=args.pilot,
            percents=percents, max_failure_rate=args.max_failure_rate,
        )  # fmt: skip
    except RolloutError as exc:
        raise UserError(str(exc), "see `kiosk-central rollout status`") from exc
    finally:
        rollout.store.close()
    emit(status.to_dict(), args.json, rollout_text(status))
    return 0


def _action(args: argparse.Namespace) -> int:
    return run_action(_rollout(args), args, "kiosk-central rollout status")


def run_action(rollout: StagedRollout, args: argparse.Namespace, see: str) -> int:
    """Run `args.action` on `rollout` and print the stage table; exit 1 when it leaves the rollout halted."""
    try:
        status = getattr(rollout, args.action)()
    except RolloutError as exc:
        raise UserError(str(exc), f"see `{see}`") from exc
    finally:
        rollout.store.close()
    emit(status.to_dict(), args.json, rollout_text(status))
    return 0 if status.state != "halted" or args.action in ("halt", "status") else 1
