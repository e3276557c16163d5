"""The per-branch snapshot the live status pages share gives every visit the same status as `status_by_token`."""

from __future__ import annotations

import random

from central_broker.queue import QueueError, QueueService
from central_broker.queue.snapshot import branch_snapshot, token_visit
from madoguchi.clock import SteppableClock
from tests.fixtures.queue import BRANCH, DESK_A, DESK_E, DESK_F, STAFF


def test_snapshot_matches_status_by_token_for_every_visit(
    sqlite_queue: QueueService, queue_clock: SteppableClock
) -> None:
    """GIVEN a morning of takes (some with a second counter), calls, services and a transfer at three counters
    WHEN the branch snapshot is read THEN every visit has exactly the status its token gives, estimate included."""
    rng = random.Random(18)
    desks = (DESK_A, DESK_E, DESK_F)
    for desk in desks:
        sqlite_queue.open_desk(desk, STAFF)
    categories = ("moving", "insurance", "children")
    tokens = []
    for step in range(60):
        then = ("hoken",) if rng.random() < 0.3 else ()
        tokens.append(sqlite_queue.take(BRANCH, rng.choice(categories), then=then).token)
        queue_clock.advance(rng.uniform(10, 120))
        desk = rng.choice(desks)
        try:
            if step % 3 == 0:
                sqlite_queue.call_next(desk, STAFF)
            elif step % 3 == 1:
                sqlite_queue.done(desk, STAFF)
            elif step % 11 == 2:
                sqlite_queue.transfer(desk, STAFF, "kodomo")
        except QueueError:
            pass
    snap = branch_snapshot(sqlite_queue, BRANCH, sqlite_queue.last_event_id(BRANCH))
    assert len(snap.statuses) == 60
    for token in tokens:
        ref = token_visit(sqlite_queue, token)
        assert ref is not None and ref.branch == BRANCH
        assert snap.statuses[ref.visit_id] == sqlite_queue.status_by_token(token)
    estimates = [s.estimate for s in snap.statuses.values() if s.estimate is not None]
    assert any(e.from_data and e.people_ahead > 0 for e in estimates)  # the case compared is not trivial
    assert token_visit(sqlite_queue, "forged") is None
