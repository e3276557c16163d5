"""The MQTT v1 topic tree (contract §2): builders for every topic and a parser for inbound ones."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from madoguchi.contracts.base import DEVICE_ID_PATTERN, ContractError

__all__ = [
    "FLEET_CATALOG_MANIFEST",
    "FLEET_CONTROL",
    "FLEET_FILTER",
    "FLEET_HOST_STATE",
    "FLEET_KEYS",
    "PREFIX",
    "Down",
    "ParsedTopic",
    "Up",
    "device_down_filter",
    "down",
    "parse_topic",
    "shared_up_filter",
    "up",
]

PREFIX = "kiosk/v1"
FLEET_CATALOG_MANIFEST = f"{PREFIX}/fleet/catalog/manifest"
FLEET_KEYS = f"{PREFIX}/fleet/keys"
FLEET_HOST_STATE = f"{PREFIX}/fleet/host/state"
FLEET_CONTROL = f"{PREFIX}/fleet/control"
FLEET_FILTER = f"{PREFIX}/fleet/#"

_DEVICE_RE = re.compile(DEVICE_ID_PATTERN)
_ALERT_ID_RE = re.compile(r"^[a-z0-9_.-]{1,64}$")


class Up(enum.StrEnum):
    """Device → centre sub-topics (`kiosk/v1/d/{dev}/up/<name>`)."""

    STATE = "state"
    HEALTH = "health"
    STATS = "stats"
    EVENT = "event"
    ALERT = "alert"
    REPORTED = "reported"
    ACK = "ack"
    RPC = "rpc"
    DIAG = "diag"  # project addition: diagnostics bundles answering `collect_logs` (docs/fleet-link.md)
    STAFF_CALL = "staff_call"  # project addition: 職員を呼ぶ calls (docs/fleet-link.md)


class Down(enum.StrEnum):
    """Centre → device sub-topics (`kiosk/v1/d/{dev}/down/<name>`)."""

    DESIRED = "desired"
    CMD = "cmd"
    ACK = "ack"
    RPC = "rpc"
    QUEUE = "queue"  # project addition: retained 混雑 lamps of the kiosk's branch (docs/queue.md)


def _check_device(device_id: str) -> str:
    if not _DEVICE_RE.match(device_id):
        raise ContractError(f"device id {device_id!r} must match [a-z0-9-]{{3,64}}, e.g. jp-131016-k03")
    return device_id


def up(device_id: str, name: Up, alert_id: str | None = None) -> str:
    """Topic a device publishes on; alerts carry their own id as the last level."""
    base = f"{PREFIX}/d/{_check_device(device_id)}/up/{name.value}"
    if name is Up.ALERT:
        if alert_id is None or not _ALERT_ID_RE.match(alert_id):
            raise ContractError(f"alert id {alert_id!r} must match [a-z0-9_.-]{{1,64}}")
        return f"{base}/{alert_id}"
    if alert_id is not None:
        raise ContractError(f"only alert topics take an id, not {name.value}")
    return base


def down(device_id: str, name: Down) -> str:
    """Topic the centre publishes on for one device."""
    return f"{PREFIX}/d/{_check_device(device_id)}/down/{name.value}"


def device_down_filter(device_id: str) -> str:
    """Subscription filter for everything the centre sends to one device."""
    return f"{PREFIX}/d/{_check_device(device_id)}/down/#"


def shared_up_filter(group: str, name: Up | None = None) -> str:
    """Shared-subscription filter for central workers, e.g. `$share/ingest/kiosk/v1/d/+/up/#`."""
    tail = "#" if name is None else (f"{name.value}/+" if name is Up.ALERT else name.value)
    return f"$share/{group}/{PREFIX}/d/+/up/{tail}"


@dataclass(frozen=True)
class ParsedTopic:
    """A device topic taken apart."""

    device_id: str
    direction: str  # "up" or "down"
    name: Up | Down
    alert_id: str | None = None


def parse_topic(topic: str) -> ParsedTopic:
    """Take a `kiosk/v1/d/...` topic apart.

    Raises:
        ContractError: the topic is not a device topic of this contract version.
    """
    parts = topic.split("/")
    if len(parts) < 5 or "/".join(parts[:2]) != PREFIX or parts[2] != "d":
        raise ContractError(f"{topic!r} is not a {PREFIX}/d/... device topic")
    device_id, direction, name = parts[3], parts[4], parts[5] if len(parts) > 5 else ""
    _check_device(device_id)
    try:
        if direction == "up":
            kind: Up | Down = Up(name)
        elif direction == "down":
            kind = Down(name)
        else:
            raise ContractError(f"{topic!r}: direction must be up or down")
    except ValueError as exc:
        raise ContractError(f"{topic!r}: unknown sub-topic {name!r}") from exc
    extra = parts[6:]
    if kind is Up.ALERT:
        if len(extra) != 1 or not _ALERT_ID_RE.match(extra[0]):
            raise ContractError(f"{topic!r}: alert topics end in one alert id")
        return ParsedTopic(device_id, direction, kind, extra[0])
    if extra:
        raise ContractError(f"{topic!r}: unexpected levels after {name!r}")
    return ParsedTopic(device_id, direction, kind)
