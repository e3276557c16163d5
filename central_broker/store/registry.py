"""The fleet registry: presence of each kiosk from its state and health messages (contract §3).

UNKNOWN → ONLINE (birth) → STALE (no birth or health for `stale_after_s`) → OFFLINE (an offline
state whose epoch is at least the latest birth's). An offline older than the latest birth is a
stale will from an earlier connection and is ignored. `mark_revoked` (from `broker revoke`) sets
REVOKED at once, whatever the presence was; state and health messages never change it again. The
rules are in `presence`; this module applies them in one transaction per message and answers queries.
A health saying `clock_synced: false` raises the centre's own `clock-unsynced` alert (`clock_alert`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, Row, inspect, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from central_broker.store.clock_alert import apply_clock_alert
from central_broker.store.diagnostics import DiagnosticsStore
from central_broker.store.engine import create_store_engine, sqlite_path
from central_broker.store.fleet_documents import FleetDocumentStore
from central_broker.store.models import (
    DEFAULT_STALE_AFTER_S,
    DeviceRecord,
    DeviceStatus,
    FleetEvent,
    Outcome,
)
from central_broker.store.presence import apply_birth, apply_health, apply_offline, state_detail
from central_broker.store.release_desired import ReleaseDesiredStore
from central_broker.store.schema import kiosk_event, kiosk_health, kiosk_state, metadata
from central_broker.store.signed_docs import SignedDocumentStore
from central_broker.store.staff_calls import StaffCallStore
from central_broker.store.telemetry import TelemetryStore
from madoguchi.contracts.messages import HealthMessage, StateMessage
from madoguchi.errors import ConfigError

__all__ = ["FleetStore", "open_store"]

_logger = logging.getLogger(__name__)

Clock = Callable[[], float]

# (table, column, SQL type) added after the first release: added to older databases when opened.
_ADDED_COLUMNS = (
    ("kiosk_state", "branch", "VARCHAR(64)"),
    ("kiosk_reported", "control_ver", "BIGINT"),
    ("release_rollout", "stage_deadline_s", "BIGINT"),  # central_broker.releases.rollout
    ("release_rollout", "offline_skip_s", "BIGINT"),
    ("release_rollout", "stage_published_at", "BIGINT"),
)


class FleetStore(
    TelemetryStore,
    SignedDocumentStore,
    ReleaseDesiredStore,
    DiagnosticsStore,
    FleetDocumentStore,
    StaffCallStore,
):
    """Central store of the fleet: presence, latest health, registry events and (from
    `TelemetryStore`) statistics, device events, alerts, reported versions, acks and rollout.

    Args:
        engine: SQLAlchemy engine (see `open_store`).
        stale_after_s: an online kiosk with no birth or health for this long shows as STALE.
        clock: seconds since the Unix epoch (tests inject one to move time).
    """

    def __init__(
        self, engine: Engine, *, stale_after_s: float = DEFAULT_STALE_AFTER_S, clock: Clock = time.time
    ) -> None:
        self.engine = engine
        self.stale_after_s = stale_after_s
        self._clock = clock

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    def now_ms(self) -> int:
        """The store's clock in epoch milliseconds."""
        return int(self._clock() * 1000)

    def create_schema(self) -> None:
        """Create missing tables (idempotent)."""
        for attempt in range(5):  # another process (ingest, a CLI) may be creating them right now
            try:
                metadata.create_all(self.engine)  # includes the telemetry tables (imported above)
                self._add_missing_columns()
                return
            except DBAPIError as exc:
                if attempt == 4 or "already exists" not in str(exc):
                    raise
                time.sleep(0.1)

    def _add_missing_columns(self) -> None:
        """Columns added after a table was first created (`create_all` only creates whole tables)."""
        for table, column, sql_type in _ADDED_COLUMNS:
            if not inspect(self.engine).has_table(table):
                continue  # created later, with the column (e.g. release_rollout by ReleaseRollout)
            present = {c["name"] for c in inspect(self.engine).get_columns(table)}
            if column in present:
                continue
            try:
                with self.engine.begin() as conn:
                    conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}"))
            except DBAPIError as exc:  # another process added it a moment ago
                if "duplicate" not in str(exc).lower() and "already exists" not in str(exc).lower():
                    raise
            _logger.info("store: added %s.%s", table, column)

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()

    # --- writes ---------------------------------------------------------------------------------

    def record_state(self, device_id: str, message: StateMessage) -> Outcome:
        """Apply a birth, will or shutdown from `up/state`; returns what it did."""
        now = self.now_ms()
        with self.engine.begin() as conn:
            row = self._lock_row(conn, device_id, now)
            if message.online:
                outcome, changes = apply_birth(row, message, now)
            else:
                outcome, changes = apply_offline(row, message, now)
            if changes:
                conn.execute(
                    update(kiosk_state).where(kiosk_state.c.device_id == device_id).values(**changes)
                )
            ignored = (Outcome.STALE_WILL_IGNORED, Outcome.OLD_BIRTH_IGNORED, Outcome.REVOKED_IGNORED)
            if changes or outcome in ignored:
                self._event(
                    conn, device_id, now, message.ts, outcome.value, message.epoch, state_detail(message)
                )
        _logger.info("%s: state online=%s epoch=%d → %s", device_id, message.online, message.epoch, outcome)
        return outcome

    def record_health(self, device_id: str, message: HealthMessage) -> Outcome:
        """Store the latest health, refresh presence and the `clock-unsynced` alert; returns what it did."""
        now = self.now_ms()
        with self.engine.begin() as conn:
            row = self._lock_row(conn, device_id, now)
            self._store_health(conn, device_id, message, now)
            outcome, changes = apply_health(row, message, now)
            if changes:
                conn.execute(
                    update(kiosk_state).where(kiosk_state.c.device_id == device_id).values(**changes)
                )
            if outcome is Outcome.ONLINE:
                self._event(
                    conn, device_id, now, message.ts, outcome.value, message.epoch, "revived by health"
                )
            if outcome in (Outcome.ONLINE, Outcome.HEALTH):
                apply_clock_alert(conn, device_id, message, now)  # `clock-unsynced` follows `clock_synced`
        _logger.debug("%s: health epoch=%d → %s", device_id, message.epoch, outcome)
        return outcome

    def mark_revoked(self, device_id: str, reason: str = "revoked") -> bool:
        """Show `device_id` REVOKED from now on (its presence messages are ignored); False if it already was."""
        now = self.now_ms()
        with self.engine.begin() as conn:
            row = self._lock_row(conn, device_id, now)
            if row.status == DeviceStatus.REVOKED.value:
                return False
            revoked = {"status": DeviceStatus.REVOKED.value, "since": now}
            conn.execute(update(kiosk_state).where(kiosk_state.c.device_id == device_id).values(**revoked))
            self._event(conn, device_id, now, None, Outcome.REVOKED.value, row.epoch, reason[:200])
        _logger.warning("%s: revoked (%s); shown revoked on the fleet view", device_id, reason)
        return True

    def _insert(self) -> Any:
        return postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert

    def _lock_row(self, conn: Connection, device_id: str, now: int) -> Row[Any]:
        placeholder = {
            "device_id": device_id,
            "status": DeviceStatus.UNKNOWN.value,
            "last_seen": now,
            "since": now,
            "first_seen": now,
        }
        conn.execute(self._insert()(kiosk_state).values(**placeholder).on_conflict_do_nothing())
        query = select(kiosk_state).where(kiosk_state.c.device_id == device_id).with_for_update()
        return conn.execute(query).one()

    def _store_health(self, conn: Connection, device_id: str, message: HealthMessage, now: int) -> None:
        values = {
            "device_id": device_id,
            "epoch": message.epoch,
            "ts": message.ts,
            "received_at": now,
            "payload": message.model_dump(mode="json", exclude_none=True),
        }
        table = kiosk_health
        newer = (table.c.epoch < message.epoch) | (
            (table.c.epoch == message.epoch) & (table.c.ts <= message.ts)
        )
        statement = self._insert()(table).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.device_id],
            set_={k: v for k, v in values.items() if k != "device_id"},
            where=newer,
        )
        conn.execute(statement)

    @staticmethod
    def _event(
        conn: Connection, device_id: str, now: int, ts: int | None, code: str, epoch: int | None, detail: str
    ) -> None:
        conn.execute(
            kiosk_event.insert().values(
                device_id=device_id, received_at=now, ts=ts, code=code, epoch=epoch, detail=detail
            )
        )

    # --- reads ----------------------------------------------------------------------------------

    def devices(self) -> list[DeviceRecord]:
        """Every known kiosk, by device id, with its status as of now."""
        query = (
            select(
                kiosk_state, kiosk_health.c.payload, kiosk_health.c.received_at.label("health_received_at")
            )
            .outerjoin(kiosk_health, kiosk_health.c.device_id == kiosk_state.c.device_id)
            .order_by(kiosk_state.c.device_id)
        )
        now = self.now_ms()
        with self.engine.connect() as conn:
            return [self._record(row, now) for row in conn.execute(query)]

    def device(self, device_id: str) -> DeviceRecord | None:
        """One kiosk, or None if the centre never heard of it."""
        return next((d for d in self.devices() if d.device_id == device_id), None)

    def events(self, device_id: str | None = None, limit: int = 100) -> list[FleetEvent]:
        """Latest registry events, newest last."""
        query = select(kiosk_event).order_by(kiosk_event.c.id.desc()).limit(limit)
        if device_id is not None:
            query = query.where(kiosk_event.c.device_id == device_id)
        with self.engine.connect() as conn:
            rows = list(conn.execute(query))
        return [FleetEvent(r.device_id, r.received_at, r.code, r.epoch, r.detail) for r in reversed(rows)]

    def _record(self, row: Row[Any], now: int) -> DeviceRecord:
        status = DeviceStatus(row.status)
        if status is DeviceStatus.ONLINE and now - row.last_seen > self.stale_after_s * 1000:
            status = DeviceStatus.STALE
        health = None if row.payload is None else HealthMessage.model_validate(row.payload)
        return DeviceRecord(
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


def open_store(
    url: str, *, stale_after_s: float = DEFAULT_STALE_AFTER_S, clock: Clock = time.time, create: bool = True
) -> FleetStore:
    """Open the central store at `url`, creating the schema.

    Args:
        url: `sqlite:////path/central.db` or `postgresql://user@host/db`.
        stale_after_s: see `FleetStore`.
        clock: see `FleetStore`.
        create: False refuses to create a new SQLite file (for read-only commands).

    Raises:
        ConfigError: bad URL, or (create=False) no store at that path.
    """
    path = sqlite_path(url)
    if not create and path is not None and not path.exists():
        raise ConfigError(
            f"there is no central store at {path}",
            "start `kiosk-central serve` first, or pass the right --store / --config",
        )
    store = FleetStore(create_store_engine(url), stale_after_s=stale_after_s, clock=clock)
    store.create_schema()
    return store
