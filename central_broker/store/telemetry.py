"""Statistics, device events, alerts, reported versions and acks in the central store.

`TelemetryStore` is mixed into `FleetStore`; every write is one transaction. Statistics are
idempotent on `(device_id, seq)` (contract §4.3): `record_stats` inserts with ON CONFLICT DO
NOTHING, then moves the device's `through_seq` over every contiguous committed seq and returns
it, so the ingest can publish `down/ack` after the commit. A device the store has never seen
starts at its batch's first seq (its older rows were acknowledged by an earlier store).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select, update

from central_broker.store.schema import kiosk_state
from central_broker.store.stat_keys import PROBE_CHUNK, stored_keys_query
from central_broker.store.telemetry_models import (
    AckRecord,
    AlertRecord,
    DeviceEventRecord,
    RolloutRecord,
    StatsOutcome,
)
from central_broker.store.telemetry_schema import (
    catalog_desired,
    kiosk_ack,
    kiosk_alert,
    kiosk_device_event,
    kiosk_reported,
    kiosk_stat,
    kiosk_stat_progress,
)
from madoguchi.contracts.messages import (
    AckMessage,
    AlertMessage,
    EventMessage,
    ReportedMessage,
    StatsBatch,
)

__all__ = ["TelemetryStore"]

_logger = logging.getLogger(__name__)


class TelemetryStore:
    """Writes and reads of everything a kiosk sends except presence (mixed into `FleetStore`)."""

    engine: Engine

    def now_ms(self) -> int:  # pragma: no cover - provided by FleetStore
        """Central clock in epoch ms."""
        raise NotImplementedError

    def _insert(self) -> Any:  # pragma: no cover - provided by FleetStore
        raise NotImplementedError

    # --- statistics -----------------------------------------------------------------------------

    def record_stats(self, device_id: str, batch: StatsBatch) -> StatsOutcome:
        """Store one batch idempotently; returns the highest contiguous committed seq to acknowledge."""
        return self.record_stats_many([(device_id, batch)])[0]

    def record_stats_many(self, batches: list[tuple[str, StatsBatch]]) -> list[StatsOutcome]:
        """Store several batches in ONE transaction (group commit); one outcome per batch, in order.

        Set-based: one progress upsert, one progress read, chunked multi-row inserts and one
        contiguity probe for the whole group, so the cost per batch stays small under load.
        """
        now = self.now_ms()
        devices = sorted({device_id for device_id, _ in batches})
        first_seen: dict[str, int] = {}
        for device_id, batch in batches:
            first_seen.setdefault(device_id, batch.batch[0] - 1)
        with self.engine.begin() as conn:
            conn.execute(
                self._insert()(kiosk_stat_progress).on_conflict_do_nothing(),
                [{"device_id": d, "through_seq": first_seen[d], "updated_at": now} for d in devices],
            )
            before = {
                row.device_id: int(row.through_seq)
                for row in conn.execute(
                    select(kiosk_stat_progress.c.device_id, kiosk_stat_progress.c.through_seq)
                    .where(kiosk_stat_progress.c.device_id.in_(bindparam("devices", expanding=True)))
                    .order_by(kiosk_stat_progress.c.device_id)
                    .with_for_update(),
                    {"devices": devices},
                )
            }
            rows = [
                {"device_id": device_id, "seq": item.seq, "ts": item.ts, "kind": item.kind,
                 "fields": item.fields, "received_at": now}
                for device_id, batch in batches
                for item in batch.items
                if item.seq > before[device_id]
            ]  # fmt: skip
            new_keys = self._insert_stats(conn, rows)
            through = dict(before)
            for device_id, batch in batches:  # a contiguous batch reaching through+1 moves it to its end
                first, last = batch.batch
                if first <= through[device_id] + 1:
                    through[device_id] = max(through[device_id], last)
            self._probe_beyond(conn, through)
            outcomes = []
            for device_id, batch in batches:
                keys = {(device_id, item.seq) for item in batch.items}
                new = len(keys & new_keys)
                new_keys -= keys
                outcomes.append(StatsOutcome(new, len(batch.items) - new, through[device_id]))
            changed = [{"d": d, "t": t, "u": now} for d, t in through.items() if t != before[d]]
            if changed:
                conn.execute(
                    update(kiosk_stat_progress)
                    .where(kiosk_stat_progress.c.device_id == bindparam("d"))
                    .values(through_seq=bindparam("t"), updated_at=bindparam("u")),
                    changed,
                )
        return outcomes

    def _insert_stats(self, conn: Connection, rows: list[dict[str, Any]]) -> set[tuple[str, int]]:
        """Insert rows (ON CONFLICT DO NOTHING ... RETURNING); the (device, seq) keys that were new.

        RETURNING reports exactly the rows this statement inserted, so no lookup of the stored
        history is needed: the cost depends on the batch, not on how many statistics are kept.
        """
        if not rows:
            return set()
        statement = (
            self._insert()(kiosk_stat)
            .on_conflict_do_nothing()
            .returning(kiosk_stat.c.device_id, kiosk_stat.c.seq)
        )
        return {(str(d), int(s)) for d, s in conn.execute(statement, rows)}

    def _probe_beyond(self, conn: Connection, through: dict[str, int]) -> None:
        """Move `through` over rows already stored past it (a gap filled by a late batch)."""
        pairs = [(d, t + 1) for d, t in through.items()]
        for i in range(0, len(pairs), PROBE_CHUNK):
            chunk = pairs[i : i + PROBE_CHUNK]
            for device_id in list(conn.execute(*stored_keys_query(chunk)).scalars()):
                through[device_id] = self._advance(conn, device_id, through[device_id])

    @staticmethod
    def _advance(conn: Connection, device_id: str, through: int) -> int:
        while True:
            seqs = conn.execute(
                select(kiosk_stat.c.seq)
                .where((kiosk_stat.c.device_id == device_id) & (kiosk_stat.c.seq > through))
                .order_by(kiosk_stat.c.seq)
                .limit(1000)
            ).scalars()
            moved = False
            for seq in seqs:
                if seq != through + 1:
                    return through
                through, moved = seq, True
            if not moved:
                return through

    def stats_through(self, device_id: str) -> int:
        """The highest contiguous committed seq of a device (0 if none)."""
        query = select(kiosk_stat_progress.c.through_seq).where(kiosk_stat_progress.c.device_id == device_id)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    def stats_seqs(self, device_id: str) -> list[int]:
        """Every stored seq of a device, ascending (for audits and tests)."""
        query = select(kiosk_stat.c.seq).where(kiosk_stat.c.device_id == device_id).order_by(kiosk_stat.c.seq)
        with self.engine.connect() as conn:
            return [int(s) for s in conn.execute(query).scalars()]

    def stats_count(self, device_id: str | None = None) -> int:
        """Number of stored usage records (one device or all)."""
        query = select(func.count()).select_from(kiosk_stat)
        if device_id is not None:
            query = query.where(kiosk_stat.c.device_id == device_id)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    # --- events, alerts, reported, acks ---------------------------------------------------------

    def record_event(self, device_id: str, message: EventMessage) -> None:
        """Store an `up/event`."""
        with self.engine.begin() as conn:
            conn.execute(
                kiosk_device_event.insert().values(
                    device_id=device_id,
                    ts=message.ts,
                    code=message.code,
                    severity=message.severity.value,
                    detail=message.detail,
                    received_at=self.now_ms(),
                )
            )

    def record_alert(self, device_id: str, alert_id: str, message: AlertMessage | None) -> str:
        """Raise/update (`message`) or clear (None) an alert; returns `raised`, `updated`, `cleared` or `ignored`."""
        now = self.now_ms()
        table = kiosk_alert
        same = (table.c.device_id == device_id) & (table.c.alert_id == alert_id)
        with self.engine.begin() as conn:
            if message is None:
                result = conn.execute(
                    update(table).where(same & table.c.cleared_at.is_(None)).values(cleared_at=now)
                )
                return "cleared" if result.rowcount else "ignored"
            latest = conn.execute(select(table).where(same).order_by(table.c.id.desc()).limit(1)).first()
            if latest is not None and latest.updated_ts >= message.ts and latest.cleared_at is not None:
                return "ignored"  # a redelivered raise older than the clear
            values = {
                "code": message.code,
                "severity": message.severity.value,
                "detail": message.detail,
                "updated_ts": message.ts,
                "received_at": now,
            }
            if latest is not None and latest.cleared_at is None:
                if message.ts >= latest.updated_ts:
                    conn.execute(update(table).where(table.c.id == latest.id).values(**values))
                return "updated"
            conn.execute(
                table.insert().values(
                    device_id=device_id,
                    alert_id=alert_id,
                    raised_at=message.since if message.since is not None else message.ts,
                    **values,
                )
            )
        _logger.info("%s: alert %s raised (%s)", device_id, alert_id, message.code)
        return "raised"

    def record_reported(self, device_id: str, message: ReportedMessage) -> None:
        """Store the latest `up/reported` (versions the kiosk runs)."""
        values = {
            "catalog_ver": message.catalog_ver,
            "app_ver": message.app_ver,
            "config_hash": message.config_hash,
            "control_ver": message.control_ver,
            "received_at": self.now_ms(),
        }
        statement = self._insert()(kiosk_reported).values(device_id=device_id, **values)
        statement = statement.on_conflict_do_update(index_elements=[kiosk_reported.c.device_id], set_=values)
        with self.engine.begin() as conn:
            conn.execute(statement)
            if message.catalog_ver is not None:
                conn.execute(
                    update(kiosk_state)
                    .where(kiosk_state.c.device_id == device_id)
                    .values(catalog_ver=message.catalog_ver)
                )

    def record_ack(self, device_id: str, message: AckMessage) -> None:
        """Store one `up/ack` step."""
        with self.engine.begin() as conn:
            conn.execute(
                kiosk_ack.insert().values(
                    device_id=device_id,
                    ref=message.ref,
                    kind=message.kind,
                    status=message.status,
                    detail=message.detail,
                    ts=message.ts,
                    received_at=self.now_ms(),
                )
            )

    def record_desired(self, device_ids: list[str], version: int, sha256: str) -> None:
        """Remember which catalog version was published to which kiosks (for `catalog status`)."""
        now = self.now_ms()
        with self.engine.begin() as conn:
            for device_id in device_ids:
                values = {"version": version, "sha256": sha256, "published_at": now}
                statement = self._insert()(catalog_desired).values(device_id=device_id, **values)
                conn.execute(
                    statement.on_conflict_do_update(index_elements=[catalog_desired.c.device_id], set_=values)
                )

    # --- reads ----------------------------------------------------------------------------------

    def alerts(self, open_only: bool = True, device_id: str | None = None) -> list[AlertRecord]:
        """Alerts by device and raise time; only those not cleared unless `open_only=False`."""
        query = select(kiosk_alert).order_by(kiosk_alert.c.device_id, kiosk_alert.c.raised_at)
        if open_only:
            query = query.where(kiosk_alert.c.cleared_at.is_(None))
        if device_id is not None:
            query = query.where(kiosk_alert.c.device_id == device_id)
        with self.engine.connect() as conn:
            return [
                AlertRecord(r.device_id, r.alert_id, r.code, r.severity, r.detail, r.raised_at, r.cleared_at)
                for r in conn.execute(query)
            ]

    def device_events(self, device_id: str | None = None, limit: int = 100) -> list[DeviceEventRecord]:
        """Latest `up/event`s, newest last."""
        table = kiosk_device_event
        query = select(table).order_by(table.c.id.desc()).limit(limit)
        if device_id is not None:
            query = query.where(table.c.device_id == device_id)
        with self.engine.connect() as conn:
            rows = list(conn.execute(query))
        return [
            DeviceEventRecord(r.device_id, r.ts, r.code, r.severity, r.detail, r.received_at)
            for r in reversed(rows)
        ]

    def acks(self, device_id: str | None = None, ref: str | None = None) -> list[AckRecord]:
        """`up/ack` steps in arrival order."""
        query = select(kiosk_ack).order_by(kiosk_ack.c.id)
        if device_id is not None:
            query = query.where(kiosk_ack.c.device_id == device_id)
        if ref is not None:
            query = query.where(kiosk_ack.c.ref == ref)
        with self.engine.connect() as conn:
            return [
                AckRecord(r.device_id, r.ref, r.kind, r.status, r.detail, r.ts, r.received_at)
                for r in conn.execute(query)
            ]

    def rollout(self) -> list[RolloutRecord]:
        """Catalog rollout per kiosk: desired version, reported version, latest catalog ack."""
        with self.engine.connect() as conn:
            desired = {r.device_id: r.version for r in conn.execute(select(catalog_desired))}
            reported = {r.device_id: r.catalog_ver for r in conn.execute(select(kiosk_reported))}
            known = {r.device_id for r in conn.execute(select(kiosk_state.c.device_id))}
            last: dict[str, Any] = {}
            query = select(kiosk_ack).where(kiosk_ack.c.kind == "catalog").order_by(kiosk_ack.c.id)
            for row in conn.execute(query):
                last[row.device_id] = row
        records = []
        for device_id in sorted(known | set(desired) | set(reported)):
            ack = last.get(device_id)
            records.append(
                RolloutRecord(
                    device_id=device_id,
                    desired_version=desired.get(device_id),
                    reported_version=reported.get(device_id),
                    last_status=None if ack is None else ack.status,
                    last_detail=None if ack is None else ack.detail,
                    last_ack_ts=None if ack is None else ack.ts,
                )
            )
        return records
