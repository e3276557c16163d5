"""`kiosk-central command DEVICE OP`: send a signed, short-lived remote command to one kiosk.

The kiosk answers on `up/ack` (ACCEPTED, then DONE or FAILED; REJECTED if it refuses); the ingest
stores the answers, shown by `--wait` and by `kiosk-central fleet`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from central_broker.catalog_push import SigningKeys, publish_documents
from central_broker.catalog_push.commands import DEFAULT_COMMAND_TTL_S, command_message
from central_broker.store import open_store
from madoguchi.cli import add_json_flag, emit
from madoguchi.config.central import load_central_config
from madoguchi.contracts.signed import CommandOp

__all__ = ["register"]

_OPS = [op.value for op in CommandOp]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `command`."""
    parser = subparsers.add_parser(
        "command",
        help="send a signed remote command to a kiosk (rebirth, restart_app, maintenance_on/off, …)",
        description="Sign OP for DEVICE with the catalog key (valid --ttl seconds) and publish it on its "
        "down/cmd. The kiosk runs each command id once and answers on up/ack.",
    )
    parser.add_argument("device_id", help="kiosk device id, e.g. jp-131016-k03")
    parser.add_argument("op", choices=_OPS, help="operation")
    parser.add_argument("--config", type=Path, required=True, help="central TOML file")
    parser.add_argument(
        "--keys",
        type=Path,
        help="signing key folder (default [web] signing_keys_dir, else <data_dir>/signing)",
    )
    parser.add_argument(
        "--ttl", type=int, default=DEFAULT_COMMAND_TTL_S, help="seconds the command stays valid"
    )
    parser.add_argument(
        "--wait", type=float, default=0.0, help="wait up to S seconds for the kiosk's final answer"
    )
    add_json_flag(parser)
    parser.set_defaults(func=_command)


def _command(args: argparse.Namespace) -> int:
    config = load_central_config(args.config)
    keys = SigningKeys(args.keys or config.signing_dir)
    command, message = command_message(keys, args.device_id, CommandOp(args.op), ttl_s=args.ttl)
    publish_documents(config.broker_for("catalog"), [message])
    answers: list[dict[str, object]] = []
    if args.wait > 0:
        store = open_store(config.central.store_url)
        try:
            deadline = time.monotonic() + args.wait
            while time.monotonic() < deadline:
                acks = store.acks(args.device_id, command.cmd_id)
                answers = [{"status": a.status, "detail": a.detail} for a in acks]
                if any(a.status in ("DONE", "FAILED", "REJECTED") for a in acks):
                    break
                time.sleep(0.2)
        finally:
            store.close()
    data = {"cmd_id": command.cmd_id, "device_id": args.device_id, "op": args.op, "answers": answers}
    final = answers[-1] if answers else None
    text = f"sent {args.op} to {args.device_id} (cmd_id {command.cmd_id})"
    if final is not None:
        text += f": {final['status']} {final['detail']}"
    emit(data, args.json, text)
    return 0 if final is None or final["status"] == "DONE" else 1
