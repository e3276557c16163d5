"""Statistics de-duplication keeps working, and stays cheap, once the store holds history.

The ingest counts every `(device_id, seq)` once (contract §4.3) across batches, redeliveries and
restarts of the central store, on SQLite and on PostgreSQL; and on a store with rows SQLite
seeks each key in the primary-key index instead of scanning the whole statistics table.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, insert, text

from central_broker.store import FleetStore, StatsOutcome, open_store, sqlite_url
from central_broker.store.telemetry_schema import kiosk_stat, kiosk_stat_progress
from madoguchi.contracts.messages import StatsBatch, StatsItem


def _batch(first: int, last: int, skip: frozenset[int] = frozenset()) -> StatsBatch:
    items = [
        StatsItem.model_validate({"seq": s, "ts": 1_700_000_000_000 + s, "kind": "payment", "yen": 300})
        for s in range(first, last + 1)
        if s not in skip
    ]
    return StatsBatch(batch=(first, last), items=items)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store URL on each database the central supports."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "central.db")
    return str(request.getfixturevalue("postgres_url"))


def test_duplicates_across_batches_and_after_a_restart_are_counted_once(store_url: str) -> None:
    """GIVEN a kiosk whose batches overlap, arrive twice, arrive in one group commit with their own
    duplicates, and arrive again after the central store is reopened WHEN they are recorded THEN each
    seq is stored once, the outcomes say how many were new, and through_seq is the contiguous end."""
    dev, other = "jp-131016-k01", "jp-131016-k02"
    store = open_store(store_url)
    try:
        assert store.record_stats(dev, _batch(1, 100)) == StatsOutcome(100, 0, 100)
        assert store.record_stats(dev, _batch(51, 150)) == StatsOutcome(50, 50, 150)
        # One group commit holding the same batch twice plus another kiosk: the copy counts as duplicate.
        outcomes = store.record_stats_many(
            [(dev, _batch(151, 200)), (other, _batch(1, 10)), (dev, _batch(151, 200))]
        )
        assert outcomes == [StatsOutcome(50, 0, 200), StatsOutcome(10, 0, 10), StatsOutcome(0, 50, 200)]
        # A gap: 211-220 arrive before 201-210; the late batch moves through_seq over both.
        assert store.record_stats(dev, _batch(211, 220)) == StatsOutcome(10, 0, 200)
    finally:
        store.close()
    store = open_store(store_url)  # the central restarts; kiosks resend what they think is unacked
    try:
        assert store.stats_through(dev) == 200
        assert store.record_stats(dev, _batch(151, 200)) == StatsOutcome(0, 50, 200)
        assert store.record_stats(dev, _batch(211, 220)) == StatsOutcome(0, 10, 200)
        assert store.record_stats(dev, _batch(201, 210)) == StatsOutcome(10, 0, 220)
        assert store.record_stats(other, _batch(1, 10)) == StatsOutcome(0, 10, 10)
        assert store.stats_seqs(dev) == list(range(1, 221))
        assert store.stats_count() == 230
    finally:
        store.close()


def _fill(store: FleetStore, devices: int, per_device: int) -> None:
    rows = (
        {"device_id": f"jp-999999-k{d:04d}", "seq": s, "ts": s, "kind": "payment", "fields": {},
         "received_at": s}
        for d in range(devices)
        for s in range(1, per_device + 1)
    )  # fmt: skip
    progress = [
        {"device_id": f"jp-999999-k{d:04d}", "through_seq": per_device, "updated_at": 1}
        for d in range(devices)
    ]
    with store.engine.begin() as conn:
        conn.execute(insert(kiosk_stat), list(rows))
        conn.execute(insert(kiosk_stat_progress), progress)


@pytest.fixture
def filled_store(store_url: str) -> Iterator[FleetStore]:
    """A store with 20,000 statistics of 200 kiosks (and fresh planner statistics)."""
    store = open_store(store_url)
    _fill(store, 200, 100)
    with store.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    yield store
    store.close()


def _plan(store: FleetStore, statement: str, parameters: Any) -> list[str]:
    """The query plan lines of one statement, as the database reports them."""
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if store.engine.dialect.name == "sqlite":
            return [str(row[3]) for row in cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)]
        cursor.execute(f"EXPLAIN {statement}", parameters)
        return [str(row[0]) for row in cursor.fetchall()]
    finally:
        raw.close()


def test_recording_statistics_seeks_keys_instead_of_scanning_the_history(filled_store: FleetStore) -> None:
    """GIVEN a store holding 20,000 statistics WHEN a group of batches is recorded (new kiosks, known
    kiosks, a duplicate and a gap) THEN every statement the store reads `kiosk_stat` with seeks by key
    (SQLite: SEARCH; PostgreSQL: an index scan), none scans the table or its whole index."""
    store = filled_store
    statements: list[tuple[str, Any]] = []

    def capture(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")) and "kiosk_stat " in statement.replace(
            "\n", " "
        ):
            statements.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        outcomes = store.record_stats_many(
            [
                ("jp-999999-k0001", _batch(101, 150)),
                ("jp-999999-k0002", _batch(1, 100)),  # all duplicates
                ("jp-999999-k0003", _batch(105, 120)),  # a gap after 100
                ("jp-131016-k07", _batch(1, 20)),
            ]
        )
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)
    assert [o.inserted for o in outcomes] == [50, 0, 16, 20]
    assert [o.through_seq for o in outcomes] == [150, 100, 100, 20]
    reads = statements
    assert reads, "the store read no statistics (the gap probe must run)"
    for statement, parameters in reads:
        plan = _plan(store, statement, parameters)
        if store.engine.dialect.name == "sqlite":
            on_stats = [step for step in plan if "kiosk_stat " in f"{step} " and "progress" not in step]
            assert on_stats and all(step.startswith("SEARCH") for step in on_stats), (
                f"{statement[:120]}…: {plan}"
            )
        else:
            assert any("Index" in line and "kiosk_stat_pkey" in line for line in plan), plan
            assert not any("Seq Scan on kiosk_stat " in f"{line} " for line in plan), plan
