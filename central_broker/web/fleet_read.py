"""A fast read of the whole fleet for the dashboard: only health messages that changed are parsed again.

`FleetStore.devices()` parses and validates every kiosk's latest health on every call; at 2,000
kiosks that dominates the fleet page. `FleetReader.records()` reads the same tables with the health
payload as raw text and reuses the parsed `HealthMessage` (and its component views) of every kiosk
whose health did not change since the last call. The presence rule is the store's
(`central_broker.store.registry.FleetStore._record`): ONLINE turns STALE after `stale_after_s`
without a birth or health; the offline reason shows only while OFFLINE.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Text, cast, select

from central_broker.store import DeviceRecord, DeviceStatus, FleetStore
from central_broker.store.schema import kiosk_health, kiosk_state
from central_broker.web.fleet_view import ComponentView, components_of
from madoguchi.contracts.messages import HealthMessage

__all__ = ["FleetReader"]

_logger = logging.getLogger(__name__)


class FleetReader:
    """Incremental reader of `kiosk_state` + `kiosk_health` (one per web process)."""

    def __init__(self, store: FleetStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._health: dict[str, tuple[int, HealthMessage, list[ComponentView]]] = {}

    def _parsed(
        self, device_id: str, received_at: int, raw: str
    ) -> tuple[HealthMessage, list[ComponentView]]:
        with self._lock:
            hit = self._health.get(device_id)
        if hit is not None and hit[0] == received_at:
            return hit[1], hit[2]
        health = HealthMessage.model_validate_json(raw)
        components = components_of(health)
        with self._lock:
            self._health[device_id] = (received_at, health, components)
        return health, components

    def record(self, device_id: str) -> tuple[DeviceRecord, list[ComponentView]] | None:
        """One kiosk as of now (None when the centre never heard of it)."""
        found = self._read(device_id)
        return found[0] if found else None

    def records(self) -> list[tuple[DeviceRecord, list[ComponentView]]]:
        """Every kiosk by id with its status as of now, and its component views."""
        return self._read(None)

    def _read(self, device_id: str | None) -> list[tuple[DeviceRecord, list[ComponentView]]]:
        query = (
            select(
                kiosk_state,
                cast(kiosk_health.c.payload, Text).label("raw_health"),  # JSON text on SQLite and PostgreSQL
                kiosk_health.c.received_at.label("health_received_at"),
            )
            .outerjoin(kiosk_health, kiosk_health.c.device_id == kiosk_state.c.device_id)
            .order_by(kiosk_state.c.device_id)
        )
        if device_id is not None:
            query = query.where(kiosk_state.c.device_id == device_id)
        now = self.store.now_ms()
        stale_ms = self.store.stale_after_s * 1000
        with self.store.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [self._record(row, now, stale_ms) for row in rows]

    def _record(self, row: Any, now: int, stale_ms: float) -> tuple[DeviceRecord, list[ComponentView]]:
        status = DeviceStatus(row.status)
        if status is DeviceStatus.ONLINE and now - row.last_seen > stale_ms:
            status = DeviceStatus.STALE
        health: HealthMessage | None = None
        components: list[ComponentView] = []
        if row.raw_health is not None:
            health, components = self._parsed(row.device_id, row.health_received_at, row.raw_health)
        record = DeviceRecord(
            device_id=row.device_id,
            status=status,
            epoch=row.epoch,
            boot_id=row.boot_id,
            app_ver=row.app_ver,
            catalog_ver=row.catalog_ver,
            last_state_ts=row.last_state_ts,
            last_seen=row.last_seen,
            since=row.since,
            offline_reason=row.offline_reason if status is DeviceStatus.OFFLINE else None,
            health=health,
            health_received_at=row.health_received_at,
            branch=row.branch,
        )
        return record, components
