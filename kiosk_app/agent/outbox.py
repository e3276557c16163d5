"""The kiosk's statistics outbox: a durable SQLite queue of usage records (contract §4).

Every usage record takes its `seq` from a persisted counter in the same transaction that stores
it (`journal_mode=WAL`, `synchronous=FULL`), so a record the app was told is saved survives a
power cut and is never numbered twice. Rows leave only when the centre's `down/ack` confirms
`through_seq` after its database commit (`ack()`).

The same file keeps two sheddable queues: the health ring (snapshots kept while the centre is
unreachable, for diagnostics) and pending device events. Caps (contract §4.6): 30 days and
50 MB of payload; over a cap the health ring is shed first, then events, never usage records.
`fill()` reports how full the outbox is so the agent can raise an alert at 80 %.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from madoguchi.contracts.messages import MAX_STATS_BYTES, MAX_STATS_ITEMS, EventMessage, StatsBatch, StatsItem
from madoguchi.sqlite import connect_durable

__all__ = ["DEFAULT_MAX_AGE_S", "DEFAULT_MAX_BYTES", "Outbox", "OutboxFill", "PendingEvent"]

_logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_AGE_S = 30 * 86_400
_ROW_OVERHEAD = 48  # bytes counted per row on top of its payload (keys, timestamps)
_BATCH_ENVELOPE = 64  # room for {"batch":[a,b],"items":[...]} around the items

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS stats (seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL,
                                   body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS health_ring (id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL,
                                        body TEXT NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('next_seq', 1), ('shed_health', 0), ('shed_events', 0);
"""


@dataclass(frozen=True)
class OutboxFill:
    """How full the outbox is: payload bytes against the cap, rows per queue, rows shed so far."""

    bytes_used: int
    max_bytes: int
    stats_rows: int
    event_rows: int
    health_rows: int
    shed_health: int
    shed_events: int

    @property
    def fraction(self) -> float:
        """Used / cap (may exceed 1.0: usage records are never shed)."""
        return self.bytes_used / self.max_bytes if self.max_bytes else 0.0


@dataclass(frozen=True)
class PendingEvent:
    """An event waiting to be published on `up/event`."""

    row_id: int
    message: EventMessage


class Outbox:
    """The SQLite outbox at `path` (created if missing). Thread-safe; one connection.

    Args:
        path: database file, e.g. `<data_dir>/agent/outbox.db`.
        clock: seconds since the Unix epoch (for record timestamps and the age cap).
        max_bytes: payload cap before shedding.
        max_age_s: health and event rows older than this are shed.
    """

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], float],
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_age_s: float = DEFAULT_MAX_AGE_S,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self._clock = clock
        self._lock = threading.Lock()
        self._db = connect_durable(path, timeout=5.0, check_same_thread=False)
        self._db.executescript(_SCHEMA)
        self._bytes = self._measure()

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _measure(self) -> int:
        total = 0
        for table in ("stats", "events", "health_ring"):
            row = self._db.execute(f"SELECT COALESCE(SUM(LENGTH(body)), 0), COUNT(*) FROM {table}").fetchone()  # noqa: S608
            total += int(row[0]) + _ROW_OVERHEAD * int(row[1])
        return total

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    # --- usage records --------------------------------------------------------------------------

    def append(self, kind: str, fields: dict[str, Any]) -> StatsItem:
        """Journal one usage record; returns it with its seq (committed and synced on return).

        Raises:
            ContractError / ValueError: the record is not valid (e.g. it names a personal-data field).
        """
        ts = self._now_ms()
        StatsItem.model_validate({"seq": 1, "ts": ts, "kind": kind, **fields})  # refuse before taking a seq
        with self._tx() as db:
            seq = int(db.execute("SELECT value FROM meta WHERE key = 'next_seq'").fetchone()[0])
            item = StatsItem.model_validate({"seq": seq, "ts": ts, "kind": kind, **fields})
            body = item.model_dump_json(exclude_none=True)
            if len(body) + _BATCH_ENVELOPE > MAX_STATS_BYTES:
                raise ValueError(
                    f"a usage record of {len(body)} bytes can never be sent; keep it under 60 KB"
                )
            db.execute("UPDATE meta SET value = ? WHERE key = 'next_seq'", (seq + 1,))
            db.execute("INSERT INTO stats (seq, ts, body) VALUES (?, ?, ?)", (seq, ts, body))
            self._bytes += len(body) + _ROW_OVERHEAD
        self._enforce_caps()
        return item

    def next_batch(self) -> StatsBatch | None:
        """The oldest unacknowledged rows as one batch (≤ 100 items, ≤ 64 KB), or None if empty."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, body FROM stats ORDER BY seq LIMIT ?", (MAX_STATS_ITEMS,)
            ).fetchall()
        items: list[dict[str, Any]] = []
        size = _BATCH_ENVELOPE
        for seq, body in rows:
            if items and (seq != items[-1]["seq"] + 1 or size + len(body) + 1 > MAX_STATS_BYTES):
                break
            items.append(json.loads(body))
            size += len(body) + 1
        if not items:
            return None
        return StatsBatch.model_validate({"batch": [items[0]["seq"], items[-1]["seq"]], "items": items})

    def ack(self, through_seq: int) -> int:
        """Delete every usage record with seq ≤ `through_seq`; returns how many went."""
        with self._tx() as db:
            row = db.execute(
                "SELECT COALESCE(SUM(LENGTH(body)), 0), COUNT(*) FROM stats WHERE seq <= ?", (through_seq,)
            ).fetchone()
            db.execute("DELETE FROM stats WHERE seq <= ?", (through_seq,))
            self._bytes -= int(row[0]) + _ROW_OVERHEAD * int(row[1])
        return int(row[1])

    def depth(self) -> int:
        """Usage records waiting for the centre's acknowledgement."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM stats").fetchone()[0])

    def seqs(self) -> list[int]:
        """Seqs waiting, ascending (diagnostics and tests)."""
        with self._lock:
            return [int(r[0]) for r in self._db.execute("SELECT seq FROM stats ORDER BY seq")]

    # --- events and health ring -----------------------------------------------------------------

    def add_event(self, message: EventMessage) -> None:
        """Queue an event for `up/event`."""
        body = message.model_dump_json(exclude_none=True)
        with self._tx() as db:
            db.execute("INSERT INTO events (ts, body) VALUES (?, ?)", (message.ts, body))
            self._bytes += len(body) + _ROW_OVERHEAD
        self._enforce_caps()

    def pending_events(self, limit: int = 10) -> list[PendingEvent]:
        """Oldest queued events."""
        with self._lock:
            rows = self._db.execute("SELECT id, body FROM events ORDER BY id LIMIT ?", (limit,)).fetchall()
        return [PendingEvent(int(r[0]), EventMessage.model_validate_json(r[1])) for r in rows]

    def remove_event(self, row_id: int) -> None:
        """Forget an event the broker acknowledged."""
        with self._tx() as db:
            row = db.execute("SELECT LENGTH(body) FROM events WHERE id = ?", (row_id,)).fetchone()
            if row is not None:
                db.execute("DELETE FROM events WHERE id = ?", (row_id,))
                self._bytes -= int(row[0]) + _ROW_OVERHEAD

    def add_health(self, body: bytes, ts: int) -> None:
        """Keep a health snapshot in the ring (diagnostics while the centre is unreachable)."""
        text = body.decode()
        with self._tx() as db:
            db.execute("INSERT INTO health_ring (ts, body) VALUES (?, ?)", (ts, text))
            self._bytes += len(text) + _ROW_OVERHEAD
        self._enforce_caps()

    def health_ring(self, limit: int = 1440) -> list[str]:
        """Latest health snapshots (JSON), oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM health_ring ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [r[0] for r in reversed(rows)]

    # --- caps -----------------------------------------------------------------------------------

    def fill(self) -> OutboxFill:
        """Current fill level and shed counters."""
        with self._lock:
            counts = [
                int(self._db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0])  # noqa: S608
                for t in ("stats", "events", "health_ring")
            ]
            meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        return OutboxFill(
            self._bytes,
            self.max_bytes,
            counts[0],
            counts[1],
            counts[2],
            meta["shed_health"],
            meta["shed_events"],
        )

    def _enforce_caps(self) -> None:
        cutoff = self._now_ms() - int(self.max_age_s * 1000)
        with self._tx() as db:
            for table, counter in (("health_ring", "shed_health"), ("events", "shed_events")):
                self._shed(db, table, counter, "ts < ?", (cutoff,))
            for table, counter in (("health_ring", "shed_health"), ("events", "shed_events")):
                while self._bytes > self.max_bytes:
                    oldest = f"id IN (SELECT id FROM {table} ORDER BY id LIMIT 50)"  # noqa: S608
                    if not self._shed(db, table, counter, oldest, ()):
                        break

    def _shed(
        self, db: sqlite3.Connection, table: str, counter: str, where: str, args: tuple[Any, ...]
    ) -> int:
        query = f"SELECT COALESCE(SUM(LENGTH(body)), 0), COUNT(*) FROM {table} WHERE {where}"  # noqa: S608
        row = db.execute(query, args).fetchone()
        shed = int(row[1])
        if shed:
            db.execute(f"DELETE FROM {table} WHERE {where}", args)  # noqa: S608
            db.execute("UPDATE meta SET value = value + ? WHERE key = ?", (shed, counter))
            self._bytes -= int(row[0]) + _ROW_OVERHEAD * shed
            _logger.warning("outbox over its cap: shed %d %s rows", shed, table)
        return shed
