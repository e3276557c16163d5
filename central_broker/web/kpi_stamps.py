"""Per-day stamps `(rows, max(received_at))` of the statistics, kept up to date without rescanning history.

The KPI cache recomputes a day only when its stamp changes. Counting every day on every request
costs a scan of the whole period (seconds at millions of rows), so the stamps are counted once per
process and then only what arrived since the last look is read:

- SQLite: rows are appended by one writer at a time, so a row committed later always has a larger
  `rowid`; the rows with `rowid` above the last one seen are exactly the new ones (an index seek).
  Should the largest `rowid` ever go down (rows deleted, then VACUUM), everything is counted again.
  The smallest `rowid` of each day is kept too, so recomputing a recent day reads from there on
  (SQLite has no index on `ts`) instead of the whole table.
- PostgreSQL: a transaction may commit after a later one, so the days touched by rows received in
  the last `SETTLE_MS` before the last look (block-range index on `received_at`) are counted again
  exactly (block-range index on `ts`).
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

from sqlalchemy import BigInteger, ColumnElement, Connection, Engine, func, literal_column, select

from central_broker.store.telemetry_schema import kiosk_stat

__all__ = ["ROWID", "DayStamps", "Stamp"]

Stamp = tuple[int, int]  # rows, max(received_at)

DAY_MS = 86_400_000
JST_OFFSET_MS = 9 * 3_600_000  # Japan has no daylight saving time
SETTLE_MS = 600_000  # PostgreSQL: a statistics transaction commits within this long of its received_at
_EPOCH = date(1970, 1, 1)
_DAY_INDEX = (kiosk_stat.c.ts + JST_OFFSET_MS) // DAY_MS
ROWID: ColumnElement[int] = literal_column("kiosk_stat.rowid", BigInteger)  # SQLite only


def _day(index: int) -> date:
    return _EPOCH + timedelta(days=int(index))


class DayStamps:
    """The stamp of every day that has statistics, refreshed incrementally (thread-safe)."""

    def __init__(self) -> None:
        self._stamps: dict[date, Stamp] = {}
        self._mark: int | None = None  # SQLite: largest rowid counted; PostgreSQL: largest received_at
        self._first_rowid: dict[date, int] = {}  # SQLite: smallest rowid of each day
        self._lock = threading.Lock()

    def between(self, engine: Engine, first: date, last: date) -> dict[date, Stamp]:
        """Stamps of the days `first`..`last` that have statistics, current as of this call."""
        with self._lock:
            with engine.connect() as conn:
                if engine.dialect.name == "sqlite":
                    self._refresh_sqlite(conn)
                else:
                    self._refresh_postgresql(conn)
            return {day: stamp for day, stamp in self._stamps.items() if first <= day <= last}

    def first_rowid(self, days: list[date]) -> int | None:
        """SQLite: a rowid no row of `days` is below (None: unknown, or PostgreSQL)."""
        with self._lock:
            found = [self._first_rowid.get(day) for day in days]
        return None if not found or None in found else min(f for f in found if f is not None)

    def _count_all(self, conn: Connection) -> None:
        query = select(_DAY_INDEX, func.count(), func.max(kiosk_stat.c.received_at)).group_by(_DAY_INDEX)
        self._stamps = {_day(i): (int(n), int(m or 0)) for i, n, m in conn.execute(query)}

    def _count_sqlite(self, conn: Connection, low: int, high: int | None) -> None:
        """Add the rows with `low < rowid <= high` (all rows when `high` is None) to the stamps."""
        query = select(_DAY_INDEX, func.count(), func.max(kiosk_stat.c.received_at), func.min(ROWID))
        if high is not None:
            query = query.where(low < ROWID, high >= ROWID)
        for i, n, m, first in conn.execute(query.group_by(_DAY_INDEX)):
            day = _day(i)
            rows, latest = self._stamps.get(day, (0, 0))
            self._stamps[day] = (rows + int(n), max(latest, int(m or 0)))
            self._first_rowid[day] = min(self._first_rowid.get(day, int(first)), int(first))

    def _refresh_sqlite(self, conn: Connection) -> None:
        top = int(conn.execute(select(func.max(ROWID)).select_from(kiosk_stat)).scalar() or 0)
        if self._mark is None or top < self._mark:  # first look, or rows were deleted and renumbered
            self._stamps, self._first_rowid = {}, {}
            self._count_sqlite(conn, 0, None)
        elif top > self._mark:
            self._count_sqlite(conn, self._mark, top)
        self._mark = top

    def _refresh_postgresql(self, conn: Connection) -> None:
        received = kiosk_stat.c.received_at
        if self._mark is None:
            self._count_all(conn)
            self._mark = max((latest for _rows, latest in self._stamps.values()), default=0)
            return
        recent = {
            _day(i): int(m)
            for i, m in conn.execute(
                select(_DAY_INDEX, func.max(received))
                .where(received > self._mark - SETTLE_MS)
                .group_by(_DAY_INDEX)
            )
        }
        for day in recent:
            start = (day - _EPOCH).days * DAY_MS - JST_OFFSET_MS
            n, m = conn.execute(
                select(func.count(), func.max(received)).where(
                    kiosk_stat.c.ts >= start, kiosk_stat.c.ts < start + DAY_MS
                )
            ).one()
            self._stamps[day] = (int(n), int(m or 0))
        self._mark = max([self._mark, *recent.values()])
