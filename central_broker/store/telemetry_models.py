"""Values the central store hands out about statistics, alerts and catalog rollout."""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["AckRecord", "AlertRecord", "DeviceEventRecord", "RolloutRecord", "StatsOutcome"]


@dataclass(frozen=True)
class StatsOutcome:
    """What one `up/stats` batch did: rows new to the store, rows already there, what to ack."""

    inserted: int
    duplicates: int
    through_seq: int


@dataclass(frozen=True)
class AlertRecord:
    """An alert a kiosk raised (retained `up/alert/{id}`); `cleared_at` is None while it is open.

    Times: `raised_at` device epoch ms (the alert's `since`, else its `ts`); `cleared_at` central
    epoch ms when the empty retained payload arrived.
    """

    device_id: str
    alert_id: str
    code: str
    severity: str
    detail: str
    raised_at: int
    cleared_at: int | None

    @property
    def open(self) -> bool:
        """True until the kiosk clears the alert."""
        return self.cleared_at is None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class DeviceEventRecord:
    """An `up/event` from a kiosk."""

    device_id: str
    ts: int
    code: str
    severity: str
    detail: str
    received_at: int


@dataclass(frozen=True)
class AckRecord:
    """One `up/ack` step of a command or catalog update."""

    device_id: str
    ref: str
    kind: str
    status: str
    detail: str
    ts: int
    received_at: int


@dataclass(frozen=True)
class RolloutRecord:
    """Catalog rollout of one kiosk: what it should run, what it reports, its latest catalog ack."""

    device_id: str
    desired_version: int | None
    reported_version: int | None
    last_status: str | None
    last_detail: str | None
    last_ack_ts: int | None

    @property
    def state(self) -> str:
        """`current`, `pending`, `failed` or `no-desired` (nothing published to this kiosk)."""
        if self.desired_version is None:
            return "no-desired"
        if self.reported_version is not None and self.reported_version >= self.desired_version:
            return "current"
        if self.last_status in ("FAILED", "REJECTED"):
            return "failed"
        return "pending"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {**asdict(self), "state": self.state}
