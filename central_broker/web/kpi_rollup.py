"""Per-day KPI partial results kept in the central database (`kpi_day`), so a restart does not parse a
month of statistics again. A row is valid while its day's `(count, max(received_at))` stamp and the
catalog version (which says which methods are cashless) are unchanged.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
)
from sqlalchemy.exc import OperationalError

from central_broker.web.kpi_data import KpiReport, Mean

__all__ = ["KpiRollup", "kpi_day", "metadata", "report_from_json", "report_to_json"]

_logger = logging.getLogger(__name__)

metadata = MetaData()

kpi_day = Table(
    "kpi_day",
    metadata,
    Column("day", String(10), primary_key=True),  # Japan date, ISO
    Column("catalog_ver", Integer, nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("latest", BigInteger, nullable=False),  # max(received_at) of the day's statistics
    Column("report", JSON, nullable=False),
)


def _mean(mean: Mean) -> list[float]:
    return [mean.total, mean.count]


def report_to_json(report: KpiReport) -> dict[str, Any]:
    """A one-day report as JSON-ready data."""
    return {
        "issued": [[*key, n] for key, n in report.issued.items()],
        "register_payments": report.register_payments,
        "cashless_payments": report.cashless_payments,
        "cashless_yen": report.cashless_yen,
        "cash_yen": report.cash_yen,
        "daily_register": dict(report.daily_register),
        "daily_cashless": dict(report.daily_cashless),
        "seconds": {kind: _mean(m) for kind, m in report.seconds.items()},
        "step_seconds": [[kind, step, *_mean(m)] for (kind, step), m in report.step_seconds.items()],
        "rating": _mean(report.rating),
        "cashless_rating": _mean(report.cashless_rating),
        "sessions": [[kind, outcome, n] for (kind, outcome), n in report.sessions.items()],
        "guide_uses": report.guide_uses,
    }


def report_from_json(day: date, data: dict[str, Any]) -> KpiReport:
    """The one-day report stored by `report_to_json`."""
    report = KpiReport(day, day)
    for d, branch, type_id, n in data["issued"]:
        report.issued[(d, branch, type_id)] = n
    report.register_payments = data["register_payments"]
    report.cashless_payments = data["cashless_payments"]
    report.cashless_yen = data["cashless_yen"]
    report.cash_yen = data["cash_yen"]
    report.daily_register.update(data["daily_register"])
    report.daily_cashless.update(data["daily_cashless"])
    for kind, (total, count) in data["seconds"].items():
        report.seconds[kind] = Mean(total, count)
    for kind, step, total, count in data["step_seconds"]:
        report.step_seconds[(kind, step)] = Mean(total, count)
    report.rating = Mean(*data["rating"])
    report.cashless_rating = Mean(*data["cashless_rating"])
    for kind, outcome, n in data["sessions"]:
        report.sessions[(kind, outcome)] = n
    report.guide_uses = data["guide_uses"]
    return report


class KpiRollup:
    """Reads and writes `kpi_day` rows."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    def load(self, days: dict[date, tuple[int, int]], catalog_ver: int) -> dict[date, KpiReport]:
        """Stored reports of `days` whose stamp and catalog version still match."""
        if not days:
            return {}
        keys = {d.isoformat(): d for d in days}
        with self.engine.connect() as conn:
            rows = conn.execute(select(kpi_day).where(kpi_day.c.day.in_(list(keys)))).all()
        found = {}
        for row in rows:
            day = keys[row.day]
            if row.catalog_ver == catalog_ver and (row.rows, row.latest) == days[day]:
                found[day] = report_from_json(day, row.report)
        return found

    def save(self, reports: dict[date, tuple[tuple[int, int], KpiReport]], catalog_ver: int) -> bool:
        """Store (replace) one-day reports with their stamps; False when the database stayed busy.

        The rows are only a cache: when the ingest holds the write lock beyond the busy timeout the
        reports are still served from memory and saved by the next pass instead of failing this one.
        """
        if not reports:
            return True
        values = [
            {
                "day": day.isoformat(),
                "catalog_ver": catalog_ver,
                "rows": stamp[0],
                "latest": stamp[1],
                "report": report_to_json(report),
            }
            for day, (stamp, report) in reports.items()
        ]
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(kpi_day).where(kpi_day.c.day.in_([v["day"] for v in values])))
                conn.execute(insert(kpi_day), values)
        except OperationalError as exc:
            _logger.warning("KPI day results not saved (%s); the next pass saves them", exc.orig)
            return False
        return True
