"""A branch snapshot read after the previous one rebuilds only the visits whose rows changed."""

from __future__ import annotations

from central_broker.queue import QueueService, StopState
from central_broker.queue.snapshot import branch_snapshot
from tests.fixtures.queue import BRANCH, DESK_A, STAFF


def test_a_new_snapshot_keeps_the_visits_that_did_not_change(sqlite_queue: QueueService) -> None:
    """GIVEN a snapshot of a branch with five waiting visits WHEN the first is called and the snapshot is read
    again from the previous one THEN the called visit is rebuilt, the four others are the very same objects
    (no rebuild 2–4 times a second on a busy day), and every status equals a fresh read's (people ahead
    included)."""
    visits = [sqlite_queue.take(BRANCH, "moving").visit.id for _ in range(5)]
    sqlite_queue.open_desk(DESK_A, STAFF)
    before = branch_snapshot(sqlite_queue, BRANCH, sqlite_queue.last_event_id(BRANCH))

    sqlite_queue.call_next(DESK_A, STAFF)
    last_id = sqlite_queue.last_event_id(BRANCH)
    after = branch_snapshot(sqlite_queue, BRANCH, last_id, previous=before)

    called, *others = visits
    assert after.statuses[called].visit.stops[0].state is StopState.CALLED
    assert after.statuses[called].visit is not before.statuses[called].visit
    assert all(after.statuses[v].visit is before.statuses[v].visit for v in others)
    assert after.statuses == branch_snapshot(sqlite_queue, BRANCH, last_id).statuses
    assert [after.statuses[v].estimate.people_ahead for v in others] == [0, 1, 2, 3]  # type: ignore[union-attr]
