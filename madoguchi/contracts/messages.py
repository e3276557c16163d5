"""MQTT v1 payloads (contract §§2–4): what devices and central services send each other."""

from __future__ import annotations

import enum
import json
from typing import Any, Literal, Self

from pydantic import Field, field_validator, model_validator

from madoguchi.contracts.base import ContractError, Message
from madoguchi.contracts.staff_call import StaffCallMessage
from madoguchi.contracts.topics import Down, Up

__all__ = [
    "DIAG_MAX_PARTS",
    "DIAG_PART_BYTES",
    "MAX_STATS_BYTES",
    "MAX_STATS_ITEMS",
    "PERSONAL_KEYS",
    "AckMessage",
    "AlertMessage",
    "CatalogAckStatus",
    "CommandAckStatus",
    "ComponentHealth",
    "ComponentStatus",
    "DiagnosticsPart",
    "DownAck",
    "EventMessage",
    "HealthMessage",
    "HostState",
    "PrinterHealth",
    "ReleaseAckStatus",
    "ReportedMessage",
    "Severity",
    "StateMessage",
    "StatsBatch",
    "StatsItem",
    "model_for",
]

MAX_STATS_ITEMS = 100
MAX_STATS_BYTES = 64 * 1024

# Keys that would carry personal data; never allowed in statistics or health.
PERSONAL_KEYS = frozenset(
    {
        "name", "address", "birth", "birth_date", "birthdate", "sex", "gender", "my_number",
        "mynumber", "individual_number", "pin", "card_id", "card_number", "pan", "phone", "email",
    }
)  # fmt: skip


class Severity(enum.StrEnum):
    """How urgent an event or alert is."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


class ComponentStatus(enum.StrEnum):
    """Health of one kiosk component."""

    OK = "ok"
    WARNING = "warning"
    ERROR = "error"
    OFFLINE = "offline"
    ABSENT = "absent"
    UNKNOWN = "unknown"


class StateMessage(Message):
    """`up/state` (retained): birth, will and clean shutdown, ordered by `epoch` (contract §3)."""

    online: bool
    epoch: int = Field(ge=0)
    ts: int = Field(ge=0)
    boot_id: str | None = None
    app_ver: str | None = None
    catalog_ver: int | None = None
    reason: Literal["lwt", "shutdown"] | None = None
    branch: str | None = Field(
        default=None, max_length=64, description="birth: the branch office from the kiosk's configuration"
    )

    @model_validator(mode="after")
    def _birth_or_death(self) -> Self:
        if self.online and (self.boot_id is None or self.app_ver is None):
            raise ValueError("a birth (online: true) carries boot_id and app_ver")
        if not self.online and self.reason is None:
            raise ValueError("an offline state carries reason: lwt or shutdown")
        return self


class ComponentHealth(Message):
    """Status of one device (reader, terminal, scanner, touch, network)."""

    status: ComponentStatus
    code: str | None = None
    detail: str | None = Field(default=None, max_length=200)


class PrinterHealth(ComponentHealth):
    """Receipt or A4 printer status with paper and cover."""

    paper: Literal["ok", "near-end", "out", "unknown"] = "unknown"
    cover: Literal["closed", "open", "unknown"] = "unknown"


class HealthMessage(Message):
    """`up/health` (QoS 0, every 60 s and on change): latest value, not journaled (contract §4.7)."""

    ts: int = Field(ge=0)
    epoch: int = Field(ge=0)
    app_ver: str
    catalog_ver: int | None = None
    uptime: float = Field(ge=0, description="seconds since the app started")
    cpu_temp: float | None = Field(default=None, description="°C; None where no sensor")
    load: float = Field(ge=0, description="1-minute load average")
    mem: float = Field(ge=0, le=100, description="memory used, percent")
    disk: float = Field(ge=0, le=100, description="data partition used, percent")
    printer: PrinterHealth
    a4_printer: PrinterHealth | None = None
    card_reader: ComponentHealth
    payment: ComponentHealth
    scanner: ComponentHealth
    touch: ComponentHealth
    net: ComponentHealth
    outbox_depth: int = Field(ge=0)
    clock_synced: bool
    maintenance: bool = False


class StatsItem(Message):
    """One usage record: `seq`, `ts`, `kind` and anonymous fields of that kind; no personal data."""

    model_config = Message.model_config | {"extra": "allow"}

    seq: int = Field(ge=1)
    ts: int = Field(ge=0)
    kind: str = Field(min_length=1, max_length=64)

    @model_validator(mode="after")
    def _no_personal_data(self) -> Self:
        bad = sorted(k for k in (self.model_extra or {}) if k.lower() in PERSONAL_KEYS)
        if bad:
            raise ValueError(f"statistics never carry personal data; remove {', '.join(bad)}")
        return self

    @property
    def fields(self) -> dict[str, Any]:
        """The kind-specific fields."""
        return dict(self.model_extra or {})


class StatsBatch(Message):
    """`up/stats`: a contiguous run of outbox rows, oldest first (contract §4)."""

    batch: tuple[int, int]
    items: list[StatsItem] = Field(min_length=1, max_length=MAX_STATS_ITEMS)

    @model_validator(mode="after")
    def _contiguous(self) -> Self:
        first, last = self.batch
        seqs = [item.seq for item in self.items]
        if seqs[0] != first or seqs[-1] != last or seqs != list(range(first, last + 1)):
            raise ValueError(f"batch [{first}, {last}] must hold exactly seq {first}..{last} in order")
        return self

    def to_bytes(self) -> bytes:
        """Serialise; refuse a batch over the 64 KB limit (split it instead)."""
        data = super().to_bytes()
        if len(data) > MAX_STATS_BYTES:
            raise ContractError(
                f"stats batch is {len(data)} bytes; the limit is {MAX_STATS_BYTES}: send fewer items"
            )
        return data


class EventMessage(Message):
    """`up/event`: something happened (card left behind, staff called, printer jam …)."""

    ts: int = Field(ge=0)
    code: str = Field(min_length=1, max_length=64)
    severity: Severity
    detail: str = Field(default="", max_length=500)


class AlertMessage(Message):
    """`up/alert/{id}` (retained): an active alert; an empty retained payload clears it."""

    ts: int = Field(ge=0)
    code: str = Field(min_length=1, max_length=64)
    severity: Severity
    detail: str = Field(default="", max_length=500)
    since: int | None = Field(default=None, ge=0, description="when the condition began, epoch ms")


class ReportedMessage(Message):
    """`up/reported` (retained): versions the device is running (shadow style)."""

    catalog_ver: int | None = None
    app_ver: str
    config_hash: str
    control_ver: int | None = None  # `fleet/control` version applied (project addition; None before any)


class CatalogAckStatus(enum.StrEnum):
    """Steps of applying a catalog, reported on `up/ack`."""

    QUEUED = "QUEUED"
    DOWNLOADING = "DOWNLOADING"
    VERIFIED = "VERIFIED"
    WAITING_IDLE = "WAITING_IDLE"
    APPLIED = "APPLIED"
    FAILED = "FAILED"
    REJECTED = "REJECTED"


class ReleaseAckStatus(enum.StrEnum):
    """Steps of updating the app to a release named by `down/desired`, reported on `up/ack`.

    QUEUED → DOWNLOADING → VERIFIED → WAITING_IDLE (a resident is being served) → INSTALLING
    (side-by-side venv, switch, restart, health gate) → APPLIED, or ROLLED_BACK (the health gate
    failed and the previous release runs again). REJECTED: the document or bundle was refused
    (signature, hash, version not above the running one); FAILED: download or install failed.
    """

    QUEUED = "QUEUED"
    DOWNLOADING = "DOWNLOADING"
    VERIFIED = "VERIFIED"
    WAITING_IDLE = "WAITING_IDLE"
    INSTALLING = "INSTALLING"
    APPLIED = "APPLIED"
    ROLLED_BACK = "ROLLED_BACK"
    FAILED = "FAILED"
    REJECTED = "REJECTED"


class CommandAckStatus(enum.StrEnum):
    """Steps of running a remote command, reported on `up/ack`."""

    ACCEPTED = "ACCEPTED"
    DONE = "DONE"
    FAILED = "FAILED"
    REJECTED = "REJECTED"


class AckMessage(Message):
    """`up/ack`: progress of a command, catalog update or app release update, by its reference."""

    ref: str = Field(min_length=1, max_length=128)
    kind: Literal["cmd", "catalog", "release"]
    status: str
    detail: str = Field(default="", max_length=500)
    ts: int = Field(ge=0)

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: str) -> str:
        known = (
            {s.value for s in CatalogAckStatus}
            | {s.value for s in CommandAckStatus}
            | {s.value for s in ReleaseAckStatus}
        )
        if value not in known:
            raise ValueError(f"status must be one of {', '.join(sorted(known))}")
        return value


DIAG_PART_BYTES = 48 * 1024  # raw bytes per part: base64 keeps each message under the 64 KB batch limit
DIAG_MAX_PARTS = 8  # a bundle is at most 384 KB compressed


class DiagnosticsPart(Message):
    """`up/diag`: one part of a gzip-compressed JSON diagnostics bundle answering `collect_logs`.

    Bundles carry component status, outbox fill, alerts and recent log lines with long digit runs
    masked; never personal data (logs never hold it; the mask is a second line of defence).
    """

    cmd_id: str = Field(min_length=1, max_length=64)
    part: int = Field(ge=0, lt=DIAG_MAX_PARTS)
    parts: int = Field(ge=1, le=DIAG_MAX_PARTS)
    data: str = Field(min_length=1, max_length=(DIAG_PART_BYTES * 4) // 3 + 4, description="base64")
    ts: int = Field(ge=0)


class DownAck(Message):
    """`down/ack`: the ingest committed every statistic up to `through_seq`."""

    through_seq: int = Field(ge=0)


class HostState(Message):
    """`fleet/host/state` (retained): whether the central ingest is up."""

    online: bool
    ts: int = Field(ge=0)


_MODELS: dict[Up | Down, type[Message]] = {
    Up.STATE: StateMessage,
    Up.HEALTH: HealthMessage,
    Up.STATS: StatsBatch,
    Up.EVENT: EventMessage,
    Up.ALERT: AlertMessage,
    Up.REPORTED: ReportedMessage,
    Up.ACK: AckMessage,
    Up.DIAG: DiagnosticsPart,
    Up.STAFF_CALL: StaffCallMessage,
    Down.ACK: DownAck,
}


def model_for(name: Up | Down) -> type[Message]:
    """The payload model of a device sub-topic (RPC and signed topics have their own modules)."""
    try:
        return _MODELS[name]
    except KeyError:
        raise ContractError(f"{name.value} has no plain payload model") from None


def dumps_compact(data: Any) -> bytes:
    """Compact UTF-8 JSON, as every payload is sent."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
