"""Values the central store hands out: device status, one device's record, what a message did."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from madoguchi.contracts.messages import HealthMessage

__all__ = ["DEFAULT_STALE_AFTER_S", "DeviceRecord", "DeviceStatus", "FleetEvent", "Outcome"]

DEFAULT_STALE_AFTER_S = 180.0  # 3 missed health messages (contract §3)


class DeviceStatus(enum.StrEnum):
    """Presence of a kiosk as the centre sees it (contract §3)."""

    UNKNOWN = "unknown"
    ONLINE = "online"
    STALE = "stale"
    OFFLINE = "offline"
    REVOKED = "revoked"  # `broker revoke`: refused by the broker; nothing it sends counts any more


class Outcome(enum.StrEnum):
    """What the registry did with one state or health message."""

    ONLINE = "online"  # birth accepted (or health revived a device)
    OFFLINE = "offline"  # offline accepted
    STALE_WILL_IGNORED = "stale_will_ignored"  # offline older than the latest birth
    OLD_BIRTH_IGNORED = "old_birth_ignored"  # birth older than the latest one
    HEALTH = "health"  # health stored, presence unchanged
    OLD_HEALTH_IGNORED = "old_health_ignored"  # health of a connection already declared dead
    REVOKED = "revoked"  # the device was revoked (`FleetStore.mark_revoked`)
    REVOKED_IGNORED = "revoked_ignored"  # a state or health message of a revoked device


@dataclass(frozen=True)
class DeviceRecord:
    """One kiosk in the fleet registry, with its latest health."""

    device_id: str
    status: DeviceStatus
    epoch: int | None
    boot_id: str | None
    app_ver: str | None
    catalog_ver: int | None
    last_state_ts: int | None
    last_seen: int
    since: int
    offline_reason: str | None
    health: HealthMessage | None
    health_received_at: int | None
    branch: str | None = None

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready form (used by `kiosk-central fleet --json`)."""
        return {
            "device_id": self.device_id,
            "status": self.status.value,
            "epoch": self.epoch,
            "boot_id": self.boot_id,
            "app_ver": self.app_ver,
            "catalog_ver": self.catalog_ver,
            "branch": self.branch,
            "last_state_ts": self.last_state_ts,
            "last_seen": self.last_seen,
            "since": self.since,
            "offline_reason": self.offline_reason,
            "health_received_at": self.health_received_at,
            "health": None if self.health is None else self.health.model_dump(mode="json", exclude_none=True),
        }


@dataclass(frozen=True)
class FleetEvent:
    """A registry event (presence changes, ignored wills) kept in `kiosk_event`."""

    device_id: str
    received_at: int
    code: str
    epoch: int | None
    detail: str
