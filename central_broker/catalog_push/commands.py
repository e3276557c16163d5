"""Signed remote commands for one kiosk (`down/cmd`): short-lived, with MQTT message expiry too."""

from __future__ import annotations

import time
import uuid

from central_broker.catalog_push.publisher import Outgoing
from central_broker.catalog_push.signing import SigningKeys
from madoguchi.contracts.signed import CommandDocument, CommandOp, PayloadType, sign
from madoguchi.contracts.topics import Down, down

__all__ = ["DEFAULT_COMMAND_TTL_S", "command_message"]

DEFAULT_COMMAND_TTL_S = 300


def command_message(
    keys: SigningKeys,
    device_id: str,
    op: CommandOp,
    *,
    ttl_s: int = DEFAULT_COMMAND_TTL_S,
    now: float | None = None,
    cmd_id: str | None = None,
    ref: str | None = None,
) -> tuple[CommandDocument, Outgoing]:
    """Sign a command for `device_id`, valid `ttl_s` seconds (`ref`: what it is about, e.g. a staff
    call's id); returns it and the message to publish."""
    now = time.time() if now is None else now
    command = CommandDocument(
        cmd_id=cmd_id or uuid.uuid4().hex,
        device_id=device_id,
        op=op,
        expires=int((now + ttl_s) * 1000),
        ref=ref,
    )
    envelope = sign(PayloadType.CMD, command.to_bytes(), keys.catalog_key())
    return command, Outgoing(down(device_id, Down.CMD), envelope.to_bytes(), retain=False, expiry_s=ttl_s)
