"""The KPI warm-up (run by `kiosk-central serve` at start) on a store that holds history.

It reads the statistics in bounded chunks instead of holding the period in memory, and it never
fails or blocks the ingest: statistics commit while it reads, and when the ingest holds the write
lock it still returns the KPIs (the per-day rows are saved by the next pass).
"""

from __future__ import annotations

import re
import sqlite3
import tracemalloc
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, insert, select

from central_broker.store import FleetStore, open_store, sqlite_path, sqlite_url
from central_broker.store.telemetry_schema import kiosk_stat
from central_broker.web import kpi_data
from central_broker.web.kpi_data import KpiCache, compute_kpis, day_range
from central_broker.web.kpi_rollup import KpiRollup
from madoguchi.contracts.catalog import load_sample_catalog
from madoguchi.contracts.messages import StatsBatch, StatsItem

FIRST = date(2026, 6, 1)
LAST = date(2026, 6, 7)


def _fields(n: int) -> dict[str, Any]:
    return {"outcome": "completed", "type": "juminhyo", "copies": 1 + n % 3, "method": "qr" if n % 2 else "cash",
            "rating": 4, "total_seconds": 95.0, "step_seconds": {"pin": 20.0, "type": 15.0, "pay": 30.0}}  # fmt: skip


def _fill(store: FleetStore, rows: int) -> None:
    """`rows` completed certificate sessions of 50 kiosks spread over FIRST..LAST."""
    start, end = day_range(FIRST, LAST)
    step = (end - start) // rows
    values = [
        {"device_id": f"jp-999999-k{n % 50:02d}", "seq": n // 50 + 1, "ts": start + n * step,
         "kind": "certificate_session", "fields": _fields(n), "received_at": start + n * step}
        for n in range(rows)
    ]  # fmt: skip
    with store.engine.begin() as conn:
        conn.execute(insert(kiosk_stat), values)


def _peak_bytes(work: Any) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_warm_up_does_not_hold_the_statistics_of_the_period_in_memory(central_store: FleetStore) -> None:
    """GIVEN 30,000 statistics in a week WHEN the KPIs of the week are computed from scratch THEN the
    peak memory is a fraction of what holding those rows takes, and every session is counted."""
    _fill(central_store, 30_000)
    catalog = load_sample_catalog()

    def hold_all() -> None:
        with central_store.engine.connect() as conn:
            rows = list(conn.execute(select(kiosk_stat.c.device_id, kiosk_stat.c.ts, kiosk_stat.c.kind,
                                            kiosk_stat.c.fields)))  # fmt: skip
        assert len(rows) == 30_000

    held = _peak_bytes(hold_all)
    reports: list[kpi_data.KpiReport] = []
    warm = _peak_bytes(lambda: reports.append(KpiCache().report(central_store.engine, catalog, FIRST, LAST)))
    assert sum(reports[0].sessions.values()) == 30_000
    assert warm < held / 3, f"warm-up peak {warm:,} bytes; holding the rows takes {held:,}"


def test_ingest_commits_while_the_warm_up_reads_and_a_locked_store_does_not_fail_it(
    central_store: FleetStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN a week of statistics WHEN the ingest commits a batch while the warm-up is half-way through its
    read THEN the commit succeeds; WHEN the ingest holds the write lock during a whole pass THEN the pass
    still returns the KPIs, and the next pass (lock released) counts the new rows and saves the days."""
    _fill(central_store, 5_000)
    catalog = load_sample_catalog()
    monkeypatch.setattr(kpi_data, "CHUNK_ROWS", 500, raising=False)  # several chunks
    real_accumulate = kpi_data._accumulate
    calls = 0
    noon = day_range(LAST, LAST)[0] + 12 * 3_600_000

    def ingest_meanwhile(*args: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:  # the warm-up's read is open: the ingest commits a batch now
            item = StatsItem.model_validate(
                {"seq": 1, "ts": noon, "kind": "certificate_session", **_fields(0)}
            )
            central_store.record_stats("jp-131016-k01", StatsBatch(batch=(1, 1), items=[item]))
        real_accumulate(*args)

    monkeypatch.setattr(kpi_data, "_accumulate", ingest_meanwhile)
    cache = KpiCache(KpiRollup(central_store.engine))
    cache.report(central_store.engine, catalog, FIRST, LAST)
    assert calls > 1 and central_store.stats_count("jp-131016-k01") == 1

    path = sqlite_path(str(central_store.engine.url))
    assert path is not None
    ingest = sqlite3.connect(path, timeout=0.1)
    try:
        ingest.execute("BEGIN IMMEDIATE")  # the ingest's group commit holds the write lock
        ingest.execute(
            "INSERT INTO kiosk_stat (device_id, seq, ts, kind, fields, received_at) VALUES (?, ?, ?, ?, ?, ?)",
            ("jp-131016-k01", 2, noon + 1, "guide_session", '{"outcome": "completed"}', noon),
        )
        locked = KpiCache(KpiRollup(central_store.engine)).report(central_store.engine, catalog, FIRST, LAST)
        assert sum(locked.sessions.values()) == 5_001
        ingest.commit()
    finally:
        ingest.close()
    after = KpiCache(KpiRollup(central_store.engine)).report(central_store.engine, catalog, FIRST, LAST)
    assert sum(after.sessions.values()) == 5_002 and after.guide_uses == 1


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def history_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FleetStore]:
    """A store with 5,000 statistics in FIRST..LAST, on each database the central supports."""
    url = (
        sqlite_url(tmp_path / "central.db")
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    store = open_store(url)
    _fill(store, 5_000)
    yield store
    store.close()


def test_kpis_after_new_and_late_statistics_match_a_fresh_computation(history_store: FleetStore) -> None:
    """GIVEN KPIs computed for the week WHEN statistics arrive for the last day and, late, for the first day
    THEN the next report counts them and equals a computation from scratch."""
    catalog = load_sample_catalog()
    cache = KpiCache()
    assert sum(cache.report(history_store.engine, catalog, FIRST, LAST).sessions.values()) == 5_000
    late, today = day_range(FIRST, FIRST)[0] + 3_600_000, day_range(LAST, LAST)[0] + 3_600_000
    items = [
        StatsItem.model_validate({"seq": 1, "ts": today, "kind": "certificate_session", **_fields(1)}),
        StatsItem.model_validate({"seq": 2, "ts": late, "kind": "register_session", "outcome": "completed",
                                  "method": "qr", "fee_yen": 300}),
    ]  # fmt: skip
    history_store.record_stats("jp-131016-k01", StatsBatch(batch=(1, 2), items=items))
    cached = cache.report(history_store.engine, catalog, FIRST, LAST)
    fresh = compute_kpis(history_store.engine, catalog, FIRST, LAST)
    assert sum(cached.sessions.values()) == 5_002
    assert cached.issued == fresh.issued and cached.cashless_yen == fresh.cashless_yen == 300
    assert cached.register_payments == fresh.register_payments == 1


def test_a_kpi_request_reads_only_what_arrived_since_the_last_one(central_store: FleetStore) -> None:
    """GIVEN an SQLite store with a week of statistics and one KPI pass WHEN a statistic arrives for the last
    day and the KPIs are asked again THEN every statement on `kiosk_stat` seeks (by rowid), none scans the
    week: the cost follows what is new, not the history."""
    _fill(central_store, 5_000)
    catalog = load_sample_catalog()
    cache = KpiCache()
    cache.report(central_store.engine, catalog, FIRST, LAST)
    noon = day_range(LAST, LAST)[0] + 12 * 3_600_000
    item = StatsItem.model_validate({"seq": 1, "ts": noon, "kind": "certificate_session", **_fields(1)})
    central_store.record_stats("jp-131016-k01", StatsBatch(batch=(1, 1), items=[item]))
    statements: list[tuple[str, Any]] = []

    def capture(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        if statement.lstrip().upper().startswith("SELECT") and re.search(r"FROM kiosk_stat\b", statement):
            statements.append((statement, parameters))

    event.listen(central_store.engine, "before_cursor_execute", capture)
    try:
        report = cache.report(central_store.engine, catalog, FIRST, LAST)
    finally:
        event.remove(central_store.engine, "before_cursor_execute", capture)
    assert sum(report.sessions.values()) == 5_001
    assert statements
    raw = central_store.engine.raw_connection()
    try:
        for statement, parameters in statements:
            plan = [
                str(row[3]) for row in raw.cursor().execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
            ]
            on_stats = [step for step in plan if re.search(r"\bkiosk_stat\b", step)]
            assert on_stats and all(step.startswith("SEARCH") for step in on_stats), (
                f"{statement[:100]}: {plan}"
            )
    finally:
        raw.close()
