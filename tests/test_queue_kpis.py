"""KPI figures of a constructed day: waits and stays (median, p90) per counter and hour, no-shows, tickets,
one-stop receptions (visits served at ≥ 2 departments)."""

from __future__ import annotations

from pathlib import Path

from central_broker.queue import DurationStat, NoShowPolicy, QueueConfig, open_queue
from central_broker.store import sqlite_url
from madoguchi.clock import SteppableClock
from madoguchi.contracts.catalog import Catalog
from tests.fixtures.queue import (
    BRANCH,
    DESK_A,
    DESK_E,
    DESK_F,
    STAFF,
    T0,
)


def test_kpis_of_a_constructed_day(tmp_path: Path, catalog: Catalog) -> None:
    """GIVEN at 09:00 A-1 (shimin → hoken), A-2 (shimin only), F-1 (kodomo) and at 10:00 A-3 (a no-show,
    cancelled) WHEN the day is served with known times THEN waits, stays, no-shows, tickets and one-stop
    receptions are exactly those of the script."""
    clock = SteppableClock(base=lambda: T0)
    config = QueueConfig(no_show_policy=NoShowPolicy.CANCEL, no_show_recalls=0)
    queue = open_queue(sqlite_url(tmp_path / "c.db"), catalog, config, clock=clock)
    try:
        for desk in (DESK_A, DESK_E, DESK_F):
            queue.open_desk(desk, STAFF)
        queue.take(BRANCH, "moving", then=("hoken",))  # A-1 at 09:00
        queue.take(BRANCH, "moving")  # A-2 at 09:00
        queue.take(BRANCH, "children")  # F-1 at 09:00
        clock.advance(120)  # 09:02
        queue.call_next(DESK_A, STAFF)  # A-1 waited 2 min at shimin_1
        queue.call_next(DESK_F, STAFF)  # F-1 waited 2 min at kodomo
        clock.advance(300)  # 09:07
        queue.done(DESK_A, STAFF)  # A-1 → hoken at 09:07
        queue.call_next(DESK_A, STAFF)  # A-2 waited 7 min
        queue.done(DESK_F, STAFF)  # F-1 stay 7 min
        clock.advance(180)  # 09:10
        queue.call_next(DESK_E, STAFF)  # A-1 waited 3 min at hoken
        queue.done(DESK_A, STAFF)  # A-2 stay 10 min
        clock.advance(600)  # 09:20
        queue.done(DESK_E, STAFF)  # A-1 stay 20 min
        clock.advance(40 * 60)  # 10:00
        queue.take(BRANCH, "moving")  # A-3 at 10:00
        clock.advance(60)
        queue.call_next(DESK_A, STAFF)  # A-3 waited 1 min
        queue.no_show(DESK_A, STAFF)

        k = queue.kpis(BRANCH)
    finally:
        queue.close()
    assert (k.day, k.visits, k.finished, k.cancelled) == ("2026-12-07", 4, 3, 1)
    assert k.one_stop == 1  # only A-1 was served at two departments (shimin, hoken_nenkin)
    assert k.wait == [
        DurationStat("hoken", 9, 1, 180.0, 180.0),
        DurationStat("kodomo", 9, 1, 120.0, 120.0),
        DurationStat("shimin_1", 9, 2, 120.0, 420.0),
        DurationStat("shimin_1", 10, 1, 60.0, 60.0),
    ]
    assert k.stay == [
        DurationStat("kodomo", 9, 1, 420.0, 420.0),
        DurationStat("shimin_1", 9, 2, 600.0, 1200.0),
    ]
    assert k.no_shows == {"shimin_1": 1}
    assert k.tickets == {("children", 9): 1, ("moving", 9): 2, ("moving", 10): 1}


def test_an_empty_day_has_zero_figures(tmp_path: Path, catalog: Catalog) -> None:
    """GIVEN no visits WHEN the KPIs are asked THEN everything is zero or empty (no division by zero)."""
    queue = open_queue(sqlite_url(tmp_path / "c.db"), catalog, clock=SteppableClock(base=lambda: T0))
    try:
        k = queue.kpis(BRANCH)
    finally:
        queue.close()
    assert (k.visits, k.finished, k.cancelled, k.one_stop, k.wait, k.stay, k.no_shows, k.tickets) == (
        0,
        0,
        0,
        0,
        [],
        [],
        {},
        {},
    )
