"""Central store: the fleet registry (presence, health, statistics, alerts, rollout) on SQLite or PostgreSQL."""

from __future__ import annotations

from central_broker.store.engine import create_store_engine, sqlite_path, sqlite_url
from central_broker.store.models import (
    DEFAULT_STALE_AFTER_S,
    DeviceRecord,
    DeviceStatus,
    FleetEvent,
    Outcome,
)
from central_broker.store.registry import FleetStore, open_store
from central_broker.store.telemetry_models import (
    AckRecord,
    AlertRecord,
    DeviceEventRecord,
    RolloutRecord,
    StatsOutcome,
)

__all__ = [
    "DEFAULT_STALE_AFTER_S",
    "AckRecord",
    "AlertRecord",
    "DeviceEventRecord",
    "DeviceRecord",
    "DeviceStatus",
    "FleetEvent",
    "FleetStore",
    "Outcome",
    "RolloutRecord",
    "StatsOutcome",
    "create_store_engine",
    "open_store",
    "sqlite_path",
    "sqlite_url",
]
