"""Counter staff: call, recall, no-show, start, done → next counter, transfer, add, finish; refusals; journal."""

from __future__ import annotations

from pathlib import Path

import pytest

from central_broker.queue import (
    Desk,
    EventKind,
    NoShowPolicy,
    QueueConfig,
    QueueError,
    QueueErrorKind,
    QueueService,
    Staff,
    StopState,
    VisitState,
    open_queue,
)
from central_broker.store import sqlite_url
from madoguchi.clock import SteppableClock
from madoguchi.contracts.catalog import Catalog
from tests.fixtures.queue import (
    BRANCH,
    DESK_A,
    DESK_E,
    DESK_F,
    OTHER_BRANCH,
    STAFF,
    T0,
)


def _open(queue: QueueService, *desks: Desk) -> None:
    for desk in desks:
        queue.open_desk(desk, STAFF)


def test_a_visit_routed_across_two_counters_keeps_its_number(
    queue: QueueService, queue_clock: SteppableClock
) -> None:
    """GIVEN A-1 for moving, then hoken WHEN shimin_1 calls, serves and finishes it THEN A-1 waits at hoken,
    is called there as A-1, and after done there the visit is finished; every step is journaled with its time."""
    _open(queue, DESK_A, DESK_E)
    taken = queue.take(BRANCH, "moving", then=("hoken",))
    queue_clock.advance(60)
    called = queue.call_next(DESK_A, STAFF)
    assert called is not None and called.number == "A-1"
    queue_clock.advance(30)
    queue.start(DESK_A, STAFF)
    queue_clock.advance(300)
    moved = queue.done(DESK_A, STAFF)
    assert moved.state is VisitState.ACTIVE
    assert moved.current is not None and moved.current.counter == "hoken"
    assert moved.current.state is StopState.WAITING
    assert [v.number for v in queue.line(DESK_E)] == ["A-1"]
    again = queue.call_next(DESK_E, STAFF)
    assert again is not None and again.number == "A-1" and again.id == taken.visit.id
    queue.start(DESK_E, STAFF)
    queue_clock.advance(120)
    finished = queue.done(DESK_E, STAFF)
    assert finished.state is VisitState.FINISHED
    assert finished.ended_at == int((T0 + 510) * 1000)
    journal = [(e.kind, e.counter, e.at) for e in queue.visit_events(taken.visit.id)]
    ms = int(T0 * 1000)
    assert journal == [
        (EventKind.ISSUED, "shimin_1", ms),
        (EventKind.CALLED, "shimin_1", ms + 60_000),
        (EventKind.STARTED, "shimin_1", ms + 90_000),
        (EventKind.DONE, "shimin_1", ms + 390_000),
        (EventKind.MOVED, "hoken", ms + 390_000),
        (EventKind.CALLED, "hoken", ms + 390_000),
        (EventKind.STARTED, "hoken", ms + 390_000),
        (EventKind.DONE, "hoken", ms + 510_000),
        (EventKind.FINISHED, None, ms + 510_000),
    ]


def test_call_next_is_fifo_by_the_time_the_visit_joined_that_counter(
    sqlite_queue: QueueService, queue_clock: SteppableClock
) -> None:
    """GIVEN E-1 issued at hoken, then A-1 moved on to hoken later WHEN hoken calls THEN E-1 first, then A-1,
    then nobody (None)."""
    _open(sqlite_queue, DESK_A, DESK_E)
    sqlite_queue.take(BRANCH, "moving", then=("hoken",))
    queue_clock.advance(10)
    sqlite_queue.take(BRANCH, "insurance")
    queue_clock.advance(10)
    sqlite_queue.call_next(DESK_A, STAFF)
    sqlite_queue.done(DESK_A, STAFF)
    queue_clock.advance(10)
    sqlite_queue.take(BRANCH, "insurance")
    assert [v.number for v in sqlite_queue.line(DESK_E)] == ["E-1", "A-1", "E-2"]
    order = []
    for _ in range(3):
        called = sqlite_queue.call_next(DESK_E, STAFF)
        assert called is not None
        order.append(called.number)
        sqlite_queue.done(DESK_E, STAFF)
    assert order == ["E-1", "A-1", "E-2"]
    assert sqlite_queue.call_next(DESK_E, STAFF) is None


def _service(tmp_path: Path, catalog: Catalog, policy: NoShowPolicy, recalls: int) -> QueueService:
    config = QueueConfig(no_show_policy=policy, no_show_recalls=recalls)
    return open_queue(sqlite_url(tmp_path / "c.db"), catalog, config, clock=SteppableClock(base=lambda: T0))


def test_no_show_after_recalls_goes_to_the_back_of_the_line(tmp_path: Path, catalog: Catalog) -> None:
    """GIVEN requeue after 2 recalls, A-1 and A-2 waiting WHEN A-1 is called and marked no-show too early
    THEN it is refused; after 2 recalls the no-show puts A-1 behind A-2 with the same number."""
    service = _service(tmp_path, catalog, NoShowPolicy.REQUEUE, 2)
    try:
        service.open_desk(DESK_A, STAFF)
        first = service.take(BRANCH, "moving").visit
        service.take(BRANCH, "moving")
        service.call_next(DESK_A, STAFF)
        service.recall(DESK_A, STAFF)
        with pytest.raises(QueueError) as early:
            service.no_show(DESK_A, STAFF)
        assert early.value.kind is QueueErrorKind.WRONG_STATE
        assert "1 of 2" in early.value.message
        recalled = service.recall(DESK_A, STAFF)
        assert recalled.current is not None and recalled.current.recalls == 2
        back = service.no_show(DESK_A, STAFF, visit_id=first.id)
        assert back.state is VisitState.ACTIVE and back.number == "A-1"
        assert [v.number for v in service.line(DESK_A)] == ["A-2", "A-1"]
        kinds = [e.kind for e in service.visit_events(first.id)]
        assert kinds[-2:] == [EventKind.NO_SHOW, EventKind.REQUEUED]
        nxt = service.call_next(DESK_A, STAFF)
        assert nxt is not None and nxt.number == "A-2"
    finally:
        service.close()


def test_no_show_can_cancel_the_visit(tmp_path: Path, catalog: Catalog) -> None:
    """GIVEN cancel at once (0 recalls) WHEN A-1 (moving, then hoken) does not come THEN the visit is cancelled,
    hoken never sees it, and the counter can call the next number."""
    service = _service(tmp_path, catalog, NoShowPolicy.CANCEL, 0)
    try:
        _open(service, DESK_A, DESK_E)
        service.take(BRANCH, "moving", then=("hoken",))
        service.take(BRANCH, "moving")
        service.call_next(DESK_A, STAFF)
        gone = service.no_show(DESK_A, STAFF)
        assert gone.state is VisitState.CANCELLED
        assert all(s.state is StopState.SKIPPED for s in gone.stops)
        assert service.line(DESK_E) == []
        nxt = service.call_next(DESK_A, STAFF)
        assert nxt is not None and nxt.number == "A-2"
    finally:
        service.close()


def test_refusals_for_counter_and_branch_mistakes(queue: QueueService) -> None:
    """GIVEN A-1 waiting WHEN staff call from a closed counter, from another branch's counter, call twice, or act
    with nothing called THEN each is refused with its own kind, and nothing is journaled for the refusals."""
    queue.take(BRANCH, "moving")
    queue.take(BRANCH, "moving")
    before = len(queue.events(BRANCH))
    with pytest.raises(QueueError) as not_open:
        queue.call_next(DESK_A, STAFF)
    assert not_open.value.kind is QueueErrorKind.COUNTER_NOT_OPEN
    with pytest.raises(QueueError) as other:
        queue.open_desk(Desk(OTHER_BRANCH, "shimin_1"), STAFF)
    assert other.value.kind is QueueErrorKind.OTHER_BRANCH
    with pytest.raises(QueueError) as unknown:
        queue.open_desk(Desk(BRANCH, "no_such_counter"), STAFF)
    assert unknown.value.kind is QueueErrorKind.UNKNOWN_COUNTER
    assert len(queue.events(BRANCH)) == before
    queue.open_desk(DESK_A, STAFF)
    with pytest.raises(QueueError) as nothing:
        queue.start(DESK_A, STAFF)
    assert nothing.value.kind is QueueErrorKind.NOTHING_CALLED
    queue.call_next(DESK_A, STAFF)
    journaled = len(queue.events(BRANCH))
    with pytest.raises(QueueError) as double:
        queue.call_next(DESK_A, STAFF)
    assert double.value.kind is QueueErrorKind.DOUBLE_CALL
    assert "A-1" in double.value.message
    with pytest.raises(QueueError) as foreign:
        queue.call_next(DESK_A, Staff("suzuki", OTHER_BRANCH))
    assert foreign.value.kind is QueueErrorKind.OTHER_BRANCH
    with pytest.raises(QueueError) as busy:
        queue.close_desk(DESK_A, STAFF)
    assert busy.value.kind is QueueErrorKind.WRONG_STATE
    assert len(queue.events(BRANCH)) == journaled
    assert [e.number for e in queue.board(BRANCH)] == ["A-1"]


def test_operations_on_finished_or_cancelled_visits_are_refused(sqlite_queue: QueueService) -> None:
    """GIVEN A-1 finished and A-2 cancelled WHEN staff add a counter to them or cancel them again THEN refused."""
    _open(sqlite_queue, DESK_A)
    a1 = sqlite_queue.take(BRANCH, "moving").visit
    a2 = sqlite_queue.take(BRANCH, "moving").visit
    sqlite_queue.call_next(DESK_A, STAFF)
    sqlite_queue.finish(DESK_A, STAFF)
    sqlite_queue.cancel(a2.id, STAFF, reason="left")
    for visit_id in (a1.id, a2.id):
        with pytest.raises(QueueError) as ended:
            sqlite_queue.add_counter(visit_id, "hoken", STAFF)
        assert ended.value.kind is QueueErrorKind.VISIT_ENDED
        with pytest.raises(QueueError) as again:
            sqlite_queue.cancel(visit_id, STAFF)
        assert again.value.kind is QueueErrorKind.VISIT_ENDED
    assert sqlite_queue.call_next(DESK_A, STAFF) is None


def test_stale_page_cannot_act_on_another_visit(sqlite_queue: QueueService) -> None:
    """GIVEN A-2 is held at shimin_1 WHEN a page still showing A-1 presses done THEN it is refused."""
    _open(sqlite_queue, DESK_A)
    a1 = sqlite_queue.take(BRANCH, "moving").visit
    sqlite_queue.take(BRANCH, "moving")
    sqlite_queue.call_next(DESK_A, STAFF)
    sqlite_queue.done(DESK_A, STAFF)
    sqlite_queue.call_next(DESK_A, STAFF)
    with pytest.raises(QueueError) as stale:
        sqlite_queue.done(DESK_A, STAFF, visit_id=a1.id)
    assert stale.value.kind is QueueErrorKind.WRONG_STATE


def test_transfer_and_add_counter_reroute_the_same_number(sqlite_queue: QueueService) -> None:
    """GIVEN A-1 (moving, then hoken) called at shimin_1 WHEN staff add kodomo last, then transfer it to shimin_3
    THEN A-1 waits at shimin_3 now, and the route continues hoken → kodomo with the same number."""
    _open(sqlite_queue, DESK_A, DESK_E, DESK_F)
    visit = sqlite_queue.take(BRANCH, "moving", then=("hoken",)).visit
    sqlite_queue.call_next(DESK_A, STAFF)
    added = sqlite_queue.add_counter(visit.id, "kodomo", STAFF, next_up=False)
    assert added.route == ("shimin_1", "hoken", "kodomo")
    with pytest.raises(QueueError) as twice:
        sqlite_queue.add_counter(visit.id, "kodomo", STAFF)
    assert twice.value.kind is QueueErrorKind.INVALID
    moved = sqlite_queue.transfer(DESK_A, STAFF, "shimin_3")
    assert moved.route == ("shimin_3", "hoken", "kodomo")
    assert moved.current is not None and moved.current.counter == "shimin_3"
    desk_c = Desk(BRANCH, "shimin_3")
    sqlite_queue.open_desk(desk_c, STAFF)
    for desk in (desk_c, DESK_E, DESK_F):
        called = sqlite_queue.call_next(desk, STAFF)
        assert called is not None and called.number == "A-1"
        last = sqlite_queue.done(desk, STAFF)
    assert last.state is VisitState.FINISHED
    kinds = [e.kind for e in sqlite_queue.visit_events(visit.id)]
    assert EventKind.TRANSFERRED in kinds and EventKind.COUNTER_ADDED in kinds


def test_finish_drops_the_remaining_counters(sqlite_queue: QueueService) -> None:
    """GIVEN A-1 routed to hoken next WHEN shimin_1 finishes it THEN the visit ends and hoken's line stays empty."""
    _open(sqlite_queue, DESK_A, DESK_E)
    sqlite_queue.take(BRANCH, "moving", then=("hoken",))
    sqlite_queue.call_next(DESK_A, STAFF)
    sqlite_queue.start(DESK_A, STAFF)
    done = sqlite_queue.finish(DESK_A, STAFF)
    assert done.state is VisitState.FINISHED
    assert [s.state for s in done.stops] == [StopState.DONE, StopState.SKIPPED]
    assert sqlite_queue.line(DESK_E) == []
    status = {d.desk.counter: d for d in sqlite_queue.desks(BRANCH)}
    assert status["shimin_1"].is_open and status["shimin_1"].visit_id is None


def test_two_presses_of_call_at_once_call_one_number(queue: QueueService) -> None:
    """GIVEN A-1 and A-2 waiting WHEN two staff browsers press "call next" for shimin_1 at the same moment
    THEN exactly one number is called and the other press is refused as a double call."""
    import threading

    queue.open_desk(DESK_A, STAFF)
    queue.take(BRANCH, "moving")
    queue.take(BRANCH, "moving")
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def press() -> None:
        start.wait()
        try:
            visit = queue.call_next(DESK_A, STAFF)
            outcomes.append(visit.number if visit else "none")
        except QueueError as exc:
            outcomes.append(exc.kind.value)

    threads = [threading.Thread(target=press) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["A-1", "double_call", "double_call", "double_call"]
    assert [v.number for v in queue.line(DESK_A)] == ["A-2"]
