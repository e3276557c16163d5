"""Presence rules of the fleet registry (contract §3), as pure functions of the stored row.

Each takes the device's `kiosk_state` row, the message and the central time, and returns what
happened plus the column changes to write (empty when nothing changes):

- a birth counts if its epoch is above every epoch seen (latest birth, accepted offline), or
  repeats the current online epoch; a lower epoch, or the same epoch from another boot id, with a
  newer device clock means the kiosk's data folder was reset (or the unit replaced) and is accepted
  with a warning; anything else is an old birth;
- an offline counts if its epoch is at least the latest birth's, else it is a stale will;
- health refreshes `last_seen` and versions, and brings a kiosk back online when it comes from a
  connection newer than the one declared dead (a birth missed, e.g. across a broker restart);
- nothing a revoked kiosk sends (birth, offline, health) changes its row: it stays REVOKED.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Row

from central_broker.store.models import DeviceStatus, Outcome
from madoguchi.contracts.messages import HealthMessage, StateMessage

__all__ = ["apply_birth", "apply_health", "apply_offline", "state_detail"]

_logger = logging.getLogger(__name__)


def state_detail(message: StateMessage) -> str:
    """Event detail for a state message (no payload beyond ids and versions)."""
    if message.online:
        return f"boot_id={message.boot_id} app_ver={message.app_ver} catalog_ver={message.catalog_ver}"
    return f"reason={message.reason}"


def _became(row: Row[Any], status: DeviceStatus, now: int) -> dict[str, Any]:
    return {"status": status.value, "since": now} if row.status != status.value else {}


def _revoked(row: Row[Any], what: str) -> bool:
    if row.status != DeviceStatus.REVOKED.value:
        return False
    _logger.warning("%s: ignored %s of a revoked kiosk", row.device_id, what)
    return True


def apply_birth(row: Row[Any], msg: StateMessage, now: int) -> tuple[Outcome, dict[str, Any]]:
    """Apply a birth."""
    if _revoked(row, "birth"):
        return Outcome.REVOKED_IGNORED, {}
    latest = -1 if row.epoch is None else row.epoch
    known = max(latest, -1 if row.offline_epoch is None else row.offline_epoch)
    duplicate = msg.epoch == latest and row.status == DeviceStatus.ONLINE.value
    # A lower epoch, or the same epoch from another boot (a replacement unit whose first connection numbers
    # like the failed unit's last), with a newer device clock: the data folder is new, not an old birth.
    restarted = msg.epoch < known or (msg.epoch == known and msg.boot_id != row.boot_id and not duplicate)
    reset = restarted and row.last_state_ts is not None and msg.ts > row.last_state_ts
    if not (msg.epoch > known or duplicate or reset):
        _logger.info("%s: ignored birth with epoch %d (latest %d)", row.device_id, msg.epoch, known)
        return Outcome.OLD_BIRTH_IGNORED, {}
    if reset:
        _logger.warning(
            "%s: epoch went back from %d to %d (or a new boot reused it) with a newer clock; the kiosk's data"
            " folder was reset",
            row.device_id,
            known,
            msg.epoch,
        )
    changes = {
        "epoch": msg.epoch,
        "offline_epoch": None,
        "offline_reason": None,
        "boot_id": msg.boot_id,
        "app_ver": msg.app_ver,
        "catalog_ver": msg.catalog_ver,
        "last_state_ts": msg.ts,
        "last_seen": now,
        **({"branch": msg.branch} if msg.branch else {}),
        **_became(row, DeviceStatus.ONLINE, now),
    }
    return Outcome.ONLINE, changes


def apply_offline(row: Row[Any], msg: StateMessage, now: int) -> tuple[Outcome, dict[str, Any]]:
    """Apply a will or shutdown."""
    if _revoked(row, msg.reason or "offline"):
        return Outcome.REVOKED_IGNORED, {}
    if row.epoch is not None and msg.epoch < row.epoch:
        _logger.info(
            "%s: ignored stale %s with epoch %d (latest birth %d)",
            row.device_id,
            msg.reason,
            msg.epoch,
            row.epoch,
        )
        return Outcome.STALE_WILL_IGNORED, {}
    if row.status == DeviceStatus.OFFLINE.value and (row.offline_epoch or -1) >= msg.epoch:
        return Outcome.OFFLINE, {}  # repeated delivery
    changes = {
        "offline_epoch": msg.epoch,
        "offline_reason": msg.reason,
        "last_state_ts": msg.ts,
        **_became(row, DeviceStatus.OFFLINE, now),
    }
    return Outcome.OFFLINE, changes


def apply_health(row: Row[Any], msg: HealthMessage, now: int) -> tuple[Outcome, dict[str, Any]]:
    """Apply a health message to presence (the health itself is stored separately)."""
    if row.status == DeviceStatus.REVOKED.value:
        return Outcome.REVOKED_IGNORED, {}
    dead = row.offline_epoch is not None and msg.epoch <= row.offline_epoch
    older = row.epoch is not None and msg.epoch < row.epoch
    if dead or older:
        return Outcome.OLD_HEALTH_IGNORED, {}
    changes: dict[str, Any] = {"last_seen": now, "app_ver": msg.app_ver, "catalog_ver": msg.catalog_ver}
    if row.epoch is None or msg.epoch > row.epoch:
        changes["epoch"] = msg.epoch  # a connection whose birth we missed (e.g. after a broker restart)
    if row.status != DeviceStatus.ONLINE.value:
        changes |= {
            "status": DeviceStatus.ONLINE.value,
            "since": now,
            "offline_epoch": None,
            "offline_reason": None,
        }
        return Outcome.ONLINE, changes
    return Outcome.HEALTH, changes
