"""Wait estimates as ranges, congestion levels per category, and the resident status token."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from central_broker.queue import CongestionLevel, QueueConfig, QueueService, StopState, open_queue
from central_broker.queue.estimates import percentile, wait_range
from central_broker.queue.schema import queue_visit
from central_broker.store import sqlite_url
from madoguchi.clock import SteppableClock
from madoguchi.contracts.catalog import Catalog
from tests.fixtures.queue import (
    BRANCH,
    DESK_A,
    STAFF,
    T0,
    at_jst,
)


def _serve(queue: QueueService, clock: SteppableClock, minutes: list[float]) -> None:
    """Take, call and finish one "moving" visit per entry, each taking that many minutes from call to done."""
    for _ in minutes:
        queue.take(BRANCH, "moving")
    for m in minutes:
        queue.call_next(DESK_A, STAFF)
        clock.advance(m * 60)
        queue.done(DESK_A, STAFF)


def test_before_any_service_the_configured_default_gives_the_range(sqlite_queue: QueueService) -> None:
    """GIVEN 10 min per person by default and 3 people waiting WHEN a fourth takes a ticket
    THEN the estimate is 3 ahead, 20–40 min (±25 %, on 5-minute steps), marked as not from data."""
    for _ in range(3):
        sqlite_queue.take(BRANCH, "moving")
    taken = sqlite_queue.take(BRANCH, "moving")
    est = taken.estimate
    assert (est.people_ahead, est.lower_minutes, est.upper_minutes, est.from_data) == (3, 20, 40, False)


def test_recorded_service_times_drive_the_range(
    sqlite_queue: QueueService, queue_clock: SteppableClock
) -> None:
    """GIVEN shimin_1 served 4 residents in 4, 5, 6 and 9 minutes WHEN 3 people wait THEN the next ticket shows
    3 ahead and 3×4…3×6 = 12–18 → 10–20 min, from data; nobody waiting gives 0–5."""
    sqlite_queue.open_desk(DESK_A, STAFF)
    _serve(sqlite_queue, queue_clock, [4, 5, 6, 9])
    assert sqlite_queue.estimate_for_counter(BRANCH, "shimin_1").upper_minutes == 5
    for _ in range(3):
        sqlite_queue.take(BRANCH, "moving")
    est = sqlite_queue.take(BRANCH, "moving").estimate
    assert (est.people_ahead, est.lower_minutes, est.upper_minutes, est.from_data) == (3, 10, 20, True)
    assert est.service_minutes == 6.0


def test_only_the_recent_window_counts(tmp_path: Path, catalog: Catalog) -> None:
    """GIVEN a window of the last 2 services WHEN 30-minute services are followed by two 5-minute ones
    THEN the estimate uses 5 minutes per person."""
    clock = SteppableClock(base=lambda: T0)
    service = open_queue(sqlite_url(tmp_path / "c.db"), catalog, QueueConfig(service_window=2), clock=clock)
    try:
        service.open_desk(DESK_A, STAFF)
        _serve(service, clock, [30, 30, 5, 5])
        assert service.estimate_for_counter(BRANCH, "shimin_1").service_minutes == 5.0
    finally:
        service.close()


def test_a_waiting_visit_sees_only_the_people_ahead_of_it(sqlite_queue: QueueService) -> None:
    """GIVEN A-1…A-3 waiting WHEN A-3's estimate is asked THEN 2 ahead; A-1 has 0 ahead; once called, none."""
    visits = [sqlite_queue.take(BRANCH, "moving").visit for _ in range(3)]
    third = sqlite_queue.estimate_for_visit(visits[2].id)
    first = sqlite_queue.estimate_for_visit(visits[0].id)
    assert third is not None and third.people_ahead == 2
    assert first is not None and first.people_ahead == 0 and first.upper_minutes == 5
    sqlite_queue.open_desk(DESK_A, STAFF)
    sqlite_queue.call_next(DESK_A, STAFF)
    assert sqlite_queue.estimate_for_visit(visits[0].id) is None


def test_ranges_are_never_a_single_number() -> None:
    """GIVEN equal low and high service times WHEN ranges are made THEN upper is always at least lower + 5."""
    assert wait_range(0, 5, 5) == (0, 5)
    assert wait_range(3, 5, 5) == (15, 20)
    assert wait_range(2, 4.2, 7.9) == (5, 20)
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90) == 9
    assert percentile([7], 50) == 7


def test_congestion_levels_follow_the_catalog_thresholds(sqlite_queue: QueueService) -> None:
    """GIVEN 10 min per person and thresholds 20/40 WHEN 2, 3 and 4 people wait in three categories
    THEN calm (20 min), busy (30) and crowded (40); an empty category is calm."""
    for category, count in (("moving", 2), ("certificates", 3), ("family_register", 4)):
        for _ in range(count):
            sqlite_queue.take(BRANCH, category)
    levels = {c.category: (c.level, c.waiting) for c in sqlite_queue.congestion(BRANCH)}
    assert levels["moving"] == (CongestionLevel.CALM, 2)
    assert levels["certificates"] == (CongestionLevel.BUSY, 3)
    assert levels["family_register"] == (CongestionLevel.CROWDED, 4)
    assert levels["tax"] == (CongestionLevel.CALM, 0)
    assert sqlite_queue.congestion_of(BRANCH, "certificates").level is CongestionLevel.BUSY


def test_status_token_is_stored_hashed_and_expires_at_the_end_of_the_day(
    sqlite_queue: QueueService, queue_clock: SteppableClock
) -> None:
    """GIVEN a ticket WHEN its token is looked up THEN the visit and its estimate come back; the database holds
    only a hash; a forged token and the real one after midnight JST both give the same None."""
    taken = sqlite_queue.take(BRANCH, "moving")
    status = sqlite_queue.status_by_token(taken.token)
    assert status is not None and status.visit.number == "A-1"
    assert status.estimate is not None and status.estimate.people_ahead == 0
    with sqlite_queue.engine.connect() as conn:
        stored = conn.execute(select(queue_visit.c.token_hash)).scalar_one()
    assert taken.token not in stored and len(stored) == 64
    forged = taken.token[:-2] + ("AA" if not taken.token.endswith("AA") else "BB")
    assert sqlite_queue.status_by_token(forged) is None
    assert sqlite_queue.status_by_token("") is None
    queue_clock.advance(at_jst(7, 23, 59) - T0)
    assert sqlite_queue.status_by_token(taken.token) is not None
    queue_clock.advance(60)
    assert sqlite_queue.status_by_token(taken.token) is None


def test_status_shows_the_next_counter(sqlite_queue: QueueService) -> None:
    """GIVEN A-1 done at shimin_1 with hoken next WHEN the resident looks THEN it waits at hoken, nothing pending."""
    sqlite_queue.open_desk(DESK_A, STAFF)
    taken = sqlite_queue.take(BRANCH, "moving", then=("hoken",))
    assert [s.counter for s in taken.visit.next_stops] == ["hoken"]
    sqlite_queue.call_next(DESK_A, STAFF)
    sqlite_queue.done(DESK_A, STAFF)
    status = sqlite_queue.status_by_token(taken.token)
    assert status is not None and status.visit.current is not None
    assert (status.visit.current.counter, status.visit.current.state) == ("hoken", StopState.WAITING)
    assert status.visit.next_stops == ()
