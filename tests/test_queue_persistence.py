"""Nothing is lost across restarts: a new service on the same store sees lines, desks, journal and tokens."""

from __future__ import annotations

from pathlib import Path

from central_broker.queue import EventKind, QueueConfig, StopState, VisitState, open_queue
from central_broker.store import open_store, sqlite_url
from madoguchi.clock import SteppableClock
from madoguchi.contracts.catalog import Catalog
from tests.fixtures.queue import (
    BRANCH,
    DESK_A,
    DESK_E,
    STAFF,
    T0,
)


def test_a_restarted_service_carries_on_where_the_old_one_stopped(
    queue_url: str, catalog: Catalog, queue_clock: SteppableClock
) -> None:
    """GIVEN A-1 called at shimin_1, A-2 waiting and A-3 routed to hoken WHEN the service is closed and a new one
    opens the same store THEN it sees the same desk, line, board, token and journal, refuses a double call,
    and numbering goes on at A-4."""
    first = open_queue(queue_url, catalog, QueueConfig(), clock=queue_clock)
    first.open_desk(DESK_A, STAFF)
    a1 = first.take(BRANCH, "moving", then=("hoken",))
    first.take(BRANCH, "moving")
    queue_clock.advance(30)
    first.call_next(DESK_A, STAFF)
    events_before = [(e.id, e.kind, e.at) for e in first.events(BRANCH)]
    first.close()

    second = open_queue(queue_url, catalog, QueueConfig(), clock=queue_clock)
    try:
        assert [(e.id, e.kind, e.at) for e in second.events(BRANCH)] == events_before
        assert [b.number for b in second.board(BRANCH)] == ["A-1"]
        assert [v.number for v in second.line(DESK_A)] == ["A-2"]
        status = second.status_by_token(a1.token)
        assert status is not None and status.visit.number == "A-1"
        assert status.visit.current is not None and status.visit.current.state is StopState.CALLED
        assert second.take(BRANCH, "moving").visit.number == "A-3"
        done = second.done(DESK_A, STAFF)
        assert done.current is not None and done.current.counter == "hoken"
        second.open_desk(DESK_E, STAFF)
        called = second.call_next(DESK_E, STAFF)
        assert called is not None and called.number == "A-1"
        assert second.done(DESK_E, STAFF).state is VisitState.FINISHED
        assert second.visit_events(a1.visit.id)[-1].kind is EventKind.FINISHED
    finally:
        second.close()


def test_opening_twice_creates_nothing_twice(
    queue_url: str, catalog: Catalog, queue_clock: SteppableClock
) -> None:
    """GIVEN a store with the queue tables WHEN services open it again (as a second process would) THEN it works."""
    for _ in range(2):
        service = open_queue(queue_url, catalog, clock=queue_clock)
        service.take(BRANCH, "certificates")
        service.close()
    again = open_queue(queue_url, catalog, clock=queue_clock)
    try:
        assert again.take(BRANCH, "certificates").visit.number == "B-3"
    finally:
        again.close()


def test_the_queue_shares_the_fleet_stores_engine(tmp_path: Path, catalog: Catalog) -> None:
    """GIVEN the central FleetStore WHEN the queue opens on its engine and is closed THEN the store still works."""
    clock = SteppableClock(base=lambda: T0)
    store = open_store(sqlite_url(tmp_path / "central.db"), clock=clock)
    try:
        queue = open_queue(store.engine, catalog, clock=clock)
        assert queue.take(BRANCH, "moving").visit.number == "A-1"
        queue.close()
        assert store.devices() == []
        assert open_queue(store.engine, catalog, clock=clock).take(BRANCH, "moving").visit.number == "A-2"
    finally:
        store.close()
