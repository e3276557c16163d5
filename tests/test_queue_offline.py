"""Offline tickets: each kiosk's own number block; merged in issue-time order, idempotently, none lost."""

from __future__ import annotations

import pytest

from central_broker.queue import (
    MergeOutcome,
    OfflineTicket,
    QueueError,
    QueueErrorKind,
    QueueService,
    TicketSource,
    VisitState,
)
from central_broker.queue.base import hash_token
from madoguchi.clock import SteppableClock
from tests.fixtures.queue import (
    BRANCH,
    DESK_A,
    OTHER_BRANCH,
    STAFF,
    T0,
)

MS = int(T0 * 1000)


def test_each_kiosk_gets_its_own_block_and_keeps_it(queue: QueueService) -> None:
    """GIVEN two kiosks at a branch and one elsewhere WHEN they ask for blocks (twice) THEN 1 and 2 at the branch,
    the same answer again, and block 1 at the other branch; block 1 issues A-1001…A-1999."""
    k1 = queue.offline_block(BRANCH, "k01")
    k2 = queue.offline_block(BRANCH, "k02")
    assert (k1.block, k2.block) == (1, 2)
    assert queue.offline_block(BRANCH, "k01") == k1
    assert queue.offline_block(OTHER_BRANCH, "k09").block == 1
    assert (k1.numbers.start, k1.numbers.stop - 1) == (1001, 1999)


def test_offline_tickets_merge_in_issue_time_order_and_resubmission_changes_nothing(
    queue: QueueService, queue_clock: SteppableClock
) -> None:
    """GIVEN A-1 issued centrally at 09:00 and A-2 at 09:10, while kiosk k01 was offline and issued A-1001 at
    09:05 and A-1002 at 09:12 WHEN k01 submits them (out of order) at 09:15, and again THEN the line is
    A-1, A-1001, A-2, A-1002; the second submission reports duplicates; no number is doubled or lost."""
    block = queue.offline_block(BRANCH, "k01")
    assert block.block == 1
    queue.take(BRANCH, "moving")
    queue_clock.advance(600)
    queue.take(BRANCH, "moving")
    queue_clock.advance(300)
    tickets = [
        OfflineTicket("A-1002", "moving", MS + 720_000),
        OfflineTicket("A-1001", "moving", MS + 300_000, token_hash=hash_token("printed-on-a-1001")),
    ]
    first = queue.merge_offline(BRANCH, "k01", tickets)
    assert [(r.number, r.outcome) for r in first] == [
        ("A-1001", MergeOutcome.MERGED),
        ("A-1002", MergeOutcome.MERGED),
    ]
    assert [v.number for v in queue.line(DESK_A)] == ["A-1", "A-1001", "A-2", "A-1002"]
    again = queue.merge_offline(BRANCH, "k01", tickets)
    assert {r.outcome for r in again} == {MergeOutcome.DUPLICATE}
    assert [r.visit_id for r in again] == [r.visit_id for r in first]
    assert [v.number for v in queue.line(DESK_A)] == ["A-1", "A-1001", "A-2", "A-1002"]
    merged = queue.visit_by_number(BRANCH, "A-1001")
    assert merged.source is TicketSource.OFFLINE and merged.device_id == "k01"
    assert merged.issued_at == MS + 300_000
    status = queue.status_by_token("printed-on-a-1001")
    assert status is not None and status.visit.number == "A-1001"
    assert status.estimate is not None and status.estimate.people_ahead == 1
    assert queue.take(BRANCH, "moving").visit.number == "A-3"
    queue.open_desk(DESK_A, STAFF)
    called = []
    while (visit := queue.call_next(DESK_A, STAFF)) is not None:
        called.append(visit.number)
        queue.done(DESK_A, STAFF)
    assert called == ["A-1", "A-1001", "A-2", "A-1002", "A-3"]


def test_numbers_outside_the_kiosks_block_or_mismatched_are_rejected_not_merged(
    sqlite_queue: QueueService,
) -> None:
    """GIVEN kiosks k01 (block 1) and k02 (block 2) WHEN k01 submits k02's number, a central number, a wrong
    prefix and an unknown category THEN each is rejected with a reason while its good ticket merges."""
    sqlite_queue.offline_block(BRANCH, "k01")
    sqlite_queue.offline_block(BRANCH, "k02")
    results = sqlite_queue.merge_offline(
        BRANCH,
        "k01",
        [
            OfflineTicket("A-2001", "moving", MS + 1),
            OfflineTicket("A-5", "moving", MS + 2),
            OfflineTicket("B-1001", "moving", MS + 3),
            OfflineTicket("Z-1001", "parking", MS + 4),
            OfflineTicket("A-1001", "moving", MS + 5),
        ],
    )
    outcomes = {r.number: r.outcome for r in results}
    assert outcomes == {
        "A-2001": MergeOutcome.REJECTED,
        "A-5": MergeOutcome.REJECTED,
        "B-1001": MergeOutcome.REJECTED,
        "Z-1001": MergeOutcome.REJECTED,
        "A-1001": MergeOutcome.MERGED,
    }
    assert all(r.reason for r in results if r.outcome is MergeOutcome.REJECTED)
    assert [v.number for v in sqlite_queue.line(DESK_A)] == ["A-1001"]


def test_a_kiosk_without_a_block_cannot_merge(sqlite_queue: QueueService) -> None:
    """GIVEN a kiosk that never asked for a block WHEN it submits THEN the merge is refused as a whole."""
    with pytest.raises(QueueError) as refused:
        sqlite_queue.merge_offline(BRANCH, "k07", [OfflineTicket("A-1001", "moving", MS)])
    assert refused.value.kind is QueueErrorKind.NOT_FOUND


def test_tickets_of_a_past_day_are_kept_but_cancelled(
    sqlite_queue: QueueService, queue_clock: SteppableClock
) -> None:
    """GIVEN k01 issued A-1001 on Monday offline WHEN it only reconnects on Tuesday THEN the ticket is recorded
    for Monday (KPIs), cancelled, and Tuesday's line is untouched."""
    sqlite_queue.offline_block(BRANCH, "k01")
    queue_clock.advance(24 * 3600)
    results = sqlite_queue.merge_offline(BRANCH, "k01", [OfflineTicket("A-1001", "moving", MS)])
    assert results[0].outcome is MergeOutcome.EXPIRED
    kept = sqlite_queue.visit_by_number(BRANCH, "A-1001", day="2026-12-07")
    assert kept.state is VisitState.CANCELLED
    assert sqlite_queue.line(DESK_A) == []
    assert sqlite_queue.kpis(BRANCH, "2026-12-07").visits == 1


def test_refused_offline_tickets_are_kept_for_the_branchs_staff_once(queue: QueueService) -> None:
    """GIVEN kiosk k01 (block 1) submitting A-2001 (another kiosk's block) and an unknown category, and k02
    (block 2) submitting A-2001 for "tax" (not its prefix) WHEN they merge, and submit again THEN the branch's list of refused
    offline tickets has each once with kiosk, issue time and reason (oldest issue first), the journal says so,
    the other branch's list is empty and the refused numbers are nowhere in a line."""
    queue.offline_block(BRANCH, "k01")
    queue.offline_block(BRANCH, "k02")
    queue.merge_offline(BRANCH, "k01", [OfflineTicket("A-1001", "moving", MS - 60_000)])
    k01 = [OfflineTicket("A-2001", "moving", MS - 120_000), OfflineTicket("Z-1002", "nothing", MS - 30_000)]
    k02 = [OfflineTicket("A-2001", "tax", MS - 90_000)]
    for _ in range(2):
        queue.merge_offline(BRANCH, "k01", k01)
        queue.merge_offline(BRANCH, "k02", k02)

    refused = queue.offline_refused(BRANCH)

    assert [(t.number, t.device_id, t.issued_at) for t in refused] == [
        ("A-2001", "k01", MS - 120_000),
        ("A-2001", "k02", MS - 90_000),
        ("Z-1002", "k01", MS - 30_000),
    ]
    assert "block" in refused[0].reason and "prefix" in refused[1].reason and "nothing" in refused[2].reason
    assert queue.offline_refused(OTHER_BRANCH) == []
    journaled = [e for e in queue.events(BRANCH) if e.kind.value == "offline_refused"]
    assert sorted(e.number or "" for e in journaled) == ["A-2001", "A-2001", "Z-1002"]
    assert [v.number for v in queue.line(DESK_A)] == ["A-1001"]  # k01's merged one only
