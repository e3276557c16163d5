"""KPIs of the Isesaki plan (kiosk-requirements §8) from the anonymous statistics in `kiosk_stat`.

Session records come from the kiosks' outboxes (`kiosk_app.flows.stats.SessionStats`):
`certificate_session` (type, copies, fee, method, step_seconds, rating, outcome) and
`register_session` (the semi-self register: method, fee, rating, outcome); `guide_session` counts
guide use when kiosks send it. Only completed sessions count as issued or paid.
Cashless rate (Out③) = cashless ÷ all completed semi-self register payments.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import islice
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select

from central_broker.store.schema import kiosk_state
from central_broker.store.telemetry_schema import kiosk_stat
from central_broker.web.kpi_stamps import ROWID, DayStamps
from madoguchi.contracts.base import municipality_of
from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.catalog_base import tokyo
from madoguchi.contracts.catalog_rules import PaymentMethodKind

if TYPE_CHECKING:
    from central_broker.web.kpi_rollup import KpiRollup

__all__ = ["KpiCache", "KpiReport", "branch_labels", "compute_kpis", "day_range"]

_logger = logging.getLogger(__name__)

CERTIFICATE = "certificate_session"
REGISTER = "register_session"
GUIDE = "guide_session"
COMPLETED = "completed"
CHUNK_ROWS = 2000  # statistics rows held at once while computing KPIs


@dataclass
class Mean:
    """A running average."""

    total: float = 0.0
    count: int = 0

    def add(self, value: float) -> None:
        """Count one value."""
        self.total += value
        self.count += 1

    def merge(self, other: Mean) -> None:
        """Count another average's values too."""
        self.total += other.total
        self.count += other.count

    @property
    def value(self) -> float | None:
        """The average, None when nothing was counted."""
        return self.total / self.count if self.count else None


@dataclass
class KpiReport:
    """KPIs over `first`..`last` (Japan dates, inclusive)."""

    first: date
    last: date
    issued: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (day, branch, type) → copies
    register_payments: int = 0
    cashless_payments: int = 0
    cashless_yen: int = 0
    cash_yen: int = 0
    daily_register: Counter[str] = field(default_factory=Counter)
    daily_cashless: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, Mean] = field(default_factory=lambda: defaultdict(Mean))  # kind → per session
    step_seconds: dict[tuple[str, str], Mean] = field(default_factory=lambda: defaultdict(Mean))
    rating: Mean = field(default_factory=Mean)
    cashless_rating: Mean = field(default_factory=Mean)
    sessions: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, outcome) → count
    guide_uses: int = 0

    @property
    def days(self) -> list[str]:
        """Every day of the period, ISO form."""
        span = (self.last - self.first).days + 1
        return [(self.first + timedelta(days=n)).isoformat() for n in range(max(span, 0))]

    @property
    def cashless_rate(self) -> float | None:
        """Cashless share of completed semi-self register payments (0..1)."""
        return self.cashless_payments / self.register_payments if self.register_payments else None

    def merge(self, other: KpiReport) -> None:
        """Add another report's counts (e.g. one day) into this one."""
        self.issued.update(other.issued)
        self.register_payments += other.register_payments
        self.cashless_payments += other.cashless_payments
        self.cashless_yen += other.cashless_yen
        self.cash_yen += other.cash_yen
        self.daily_register.update(other.daily_register)
        self.daily_cashless.update(other.daily_cashless)
        for kind, mean in other.seconds.items():
            self.seconds[kind].merge(mean)
        for key, mean in other.step_seconds.items():
            self.step_seconds[key].merge(mean)
        self.rating.merge(other.rating)
        self.cashless_rating.merge(other.cashless_rating)
        self.sessions.update(other.sessions)
        self.guide_uses += other.guide_uses

    def issued_by(self, index: int) -> list[tuple[str, int]]:
        """Copies issued per day (0), branch (1) or type (2), by key."""
        totals: Counter[str] = Counter()
        for key, copies in self.issued.items():
            totals[key[index]] += copies
        return sorted(totals.items())

    def issued_per_day(self) -> list[tuple[str, int]]:
        """Copies per day, every day of the period (0 where none)."""
        found = dict(self.issued_by(0))
        return [(day, found.get(day, 0)) for day in self.days]

    def cashless_per_day(self) -> list[tuple[str, float | None]]:
        """Cashless rate per day (None on days without payments)."""
        return [
            (day, self.daily_cashless[day] / self.daily_register[day] if self.daily_register[day] else None)
            for day in self.days
        ]


def day_range(first: date, last: date) -> tuple[int, int]:
    """Epoch ms bounds [start of `first`, start of the day after `last`) in Japan time."""
    start = datetime.combine(first, time.min, tokyo())
    end = datetime.combine(last + timedelta(days=1), time.min, tokyo())
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def _cashless_ids(catalog: Catalog) -> set[str]:
    return {m.id for m in catalog.payment.methods if m.kind is not PaymentMethodKind.CASH}


def _accumulate(
    report: KpiReport, rows: Iterable[Any], cashless: set[str], branches: dict[str, str] | None = None
) -> None:
    zone = tokyo()
    branches = branches or {}
    for device_id, ts, kind, fields in rows:
        outcome = str(fields.get("outcome", ""))
        report.sessions[(kind, outcome)] += 1
        if kind == GUIDE:
            report.guide_uses += 1
            continue
        if kind not in (CERTIFICATE, REGISTER) or outcome != COMPLETED:
            continue
        day = datetime.fromtimestamp(ts / 1000, zone).date().isoformat()
        total = fields.get("total_seconds")
        if isinstance(total, int | float):
            report.seconds[kind].add(float(total))
        steps = fields.get("step_seconds")
        if isinstance(steps, dict):
            for step, seconds in steps.items():
                if isinstance(seconds, int | float):
                    report.step_seconds[(kind, str(step))].add(float(seconds))
        method = fields.get("method")
        rating = fields.get("rating")
        if isinstance(rating, int) and 1 <= rating <= 5:
            report.rating.add(rating)
            if method in cashless:
                report.cashless_rating.add(rating)
        if kind == CERTIFICATE:
            copies = fields.get("copies", 1)
            branch = branches.get(device_id) or municipality_of(device_id) or "other"
            report.issued[(day, branch, str(fields.get("type", "?")))] += (
                copies if isinstance(copies, int) else 1
            )
        else:
            fee = fields.get("fee_yen", 0)
            fee = fee if isinstance(fee, int) else 0
            report.register_payments += 1
            report.daily_register[day] += 1
            if method in cashless:
                report.cashless_payments += 1
                report.daily_cashless[day] += 1
                report.cashless_yen += fee
            else:
                report.cash_yen += fee


def _rows(engine: Engine, start: int, end: int, from_rowid: int | None = None) -> Iterator[Any]:
    """The statistics with `start <= ts < end`, fetched `CHUNK_ROWS` at a time (never all in memory).

    One read-only statement: on SQLite (WAL) it reads a snapshot and never takes the write lock, so
    the ingest commits while it runs; on PostgreSQL it is a server-side cursor. `from_rowid` (SQLite)
    skips the rows stored before it: recent days are read without scanning the older history.
    """
    query = select(kiosk_stat.c.device_id, kiosk_stat.c.ts, kiosk_stat.c.kind, kiosk_stat.c.fields).where(
        kiosk_stat.c.ts >= start, kiosk_stat.c.ts < end
    )
    if from_rowid is not None and engine.dialect.name == "sqlite":
        query = query.where(from_rowid <= ROWID)
    with engine.connect() as conn:
        yield from conn.execution_options(yield_per=CHUNK_ROWS).execute(query)


def branch_labels(engine: Engine) -> dict[str, str]:
    """Device id → "<municipality> <branch office>" for kiosks that reported their branch."""
    query = select(kiosk_state.c.device_id, kiosk_state.c.branch).where(kiosk_state.c.branch.is_not(None))
    with engine.connect() as conn:
        return {dev: f"{municipality_of(dev) or 'other'} {branch}" for dev, branch in conn.execute(query)}


def compute_kpis(engine: Engine, catalog: Catalog, first: date, last: date) -> KpiReport:
    """Aggregate the statistics of a period (no cache)."""
    report = KpiReport(first, last)
    _accumulate(report, _rows(engine, *day_range(first, last)), _cashless_ids(catalog), branch_labels(engine))
    return report


class KpiCache:
    """Per-day partial reports, reused while a day's row count and latest arrival are unchanged.

    Statistics can arrive late (a kiosk's outbox drains after an outage), so a day is recomputed
    whenever its `(count, max(received_at))` stamp changes; usually only today is. With a `rollup`
    the per-day results are also kept in the database for the next process.
    """

    def __init__(self, rollup: KpiRollup | None = None) -> None:
        self.rollup = rollup
        self._days: dict[date, tuple[tuple[int, int], KpiReport]] = {}
        self._lock = threading.Lock()
        self.stamps = DayStamps()

    def report(self, engine: Engine, catalog: Catalog, first: date, last: date) -> KpiReport:
        """The KPIs of `first`..`last`, recomputing only days whose statistics changed."""
        stamps = self.stamps.between(engine, first, last)
        with self._lock:
            stale = [d for d, stamp in stamps.items() if self._days.get(d, ((-1, -1), None))[0] != stamp]
        if stale and self.rollup is not None:
            stored = self.rollup.load({d: stamps[d] for d in stale}, catalog.version)
            with self._lock:
                for day, part in stored.items():
                    self._days[day] = (stamps[day], part)
            stale = [d for d in stale if d not in stored]
        if stale:
            lo, hi = min(stale), max(stale)
            fresh = {d: KpiReport(d, d) for d in stale}
            cashless = _cashless_ids(catalog)
            zone = tokyo()
            branches = branch_labels(engine)
            rows = _rows(engine, *day_range(lo, hi), self.stamps.first_rowid(stale))
            while chunk := list(islice(rows, CHUNK_ROWS)):  # one chunk in memory, never the period
                by_day: dict[date, list[Any]] = defaultdict(list)
                for row in chunk:
                    by_day[datetime.fromtimestamp(row[1] / 1000, zone).date()].append(row)
                for day, part_rows in by_day.items():
                    if day in fresh:
                        _accumulate(fresh[day], part_rows, cashless, branches)
            with self._lock:
                for day, part in fresh.items():
                    self._days[day] = (stamps[day], part)
            if self.rollup is not None:
                self.rollup.save({day: (stamps[day], part) for day, part in fresh.items()}, catalog.version)
        total = KpiReport(first, last)
        with self._lock:
            for day in stamps:
                total.merge(self._days[day][1])
        return total
