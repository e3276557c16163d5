"""`queue.take`, `queue.block`, `queue.merge` between a kiosk's RPC client and the central, through Mosquitto.

The branch is the kiosk's from its birth, numbering is per branch, a retry never gets a second number,
refusals carry `QueueRefusal` (kind, message, hint) in the RPC error, and a flooding kiosk is limited.
"""

from __future__ import annotations

import uuid

import pytest

from central_broker.queue import QueueError
from madoguchi.contracts.queue import BlockView, MergeResult, MergeView, RefusalKind
from tests.fixtures.queue import at_jst
from tests.queue_link_env import BRANCH, OTHER_BRANCH, PUBLIC_URL, QueueLinkEnv, queue_link

__all__ = ["queue_link"]  # the fixture, imported for pytest


def test_a_kiosk_takes_the_first_number_with_its_counters_wait_and_status_page(
    queue_link: QueueLinkEnv,
) -> None:
    """GIVEN a kiosk born at 本庁舎 WHEN it takes two "moving" numbers THEN it gets A-1 (first counter
    shimin_1 on floor 1, nobody ahead, 0–5 min, a status page under the public URL whose token finds the
    visit) and A-2 with one person ahead."""
    kiosk = queue_link.kiosk(BRANCH)

    first = kiosk.take("moving", language="en", then=["hoken"])
    second = kiosk.take("moving")

    assert first.number == "A-1" and first.category == "moving" and not first.offline
    assert [(c.counter, c.department, c.floor, c.number) for c in first.counters] == [
        ("shimin_1", "shimin", 1, "1"),
        ("hoken", "hoken_nenkin", 1, "6"),
    ]
    assert (first.people_ahead, first.wait_min_minutes, first.wait_max_minutes) == (0, 0, 5)
    assert first.status_url == f"{PUBLIC_URL}/q/{first.status_token}"
    assert first.issued_at == int(at_jst(7, 9) * 1000)
    assert first.expires_at == int(at_jst(8, 0) * 1000)
    status = queue_link.host.queue.status_by_token(first.status_token)
    assert status is not None and status.visit.branch == BRANCH and status.visit.device_id == kiosk.device_id
    assert second.number == "A-2" and second.people_ahead == 1
    assert second.wait_max_minutes > second.wait_min_minutes


def test_a_retried_request_gets_the_same_ticket_and_a_new_request_the_next_number(
    queue_link: QueueLinkEnv,
) -> None:
    """GIVEN a take answered WHEN the kiosk sends the same req_id again (also with its parameters in another
    language) THEN the same number and token come back; a new req_id gets the next number; the same
    req_id for another category is refused, never numbered."""
    kiosk = queue_link.kiosk(BRANCH)
    req_id = str(uuid.uuid4())

    first = kiosk.take("moving", req_id)
    replayed = kiosk.take("moving", req_id)  # the server's cache answers
    again = kiosk.take("moving", req_id, language="en")  # another parameters hash: the handler remembers
    fresh = kiosk.take("moving")
    misuse = kiosk.refused("queue.take", {"category": "tax"}, req_id)

    assert replayed == first and again == first
    assert fresh.number == "A-2"
    assert misuse.kind == RefusalKind.INVALID
    with pytest.raises(QueueError, match="no visit"):  # the misused req_id used up no number
        queue_link.host.queue.visit_by_number(BRANCH, "A-3")


def test_each_branch_numbers_its_own_visits(queue_link: QueueLinkEnv) -> None:
    """GIVEN two kiosks at 本庁舎 and one at 北支所 WHEN each takes a number THEN 本庁舎 counts A-1, A-2
    across its kiosks and 北支所 starts its own A-1."""
    main_1, main_2, north = queue_link.kiosk(BRANCH), queue_link.kiosk(BRANCH), queue_link.kiosk(OTHER_BRANCH)

    numbers = [main_1.take("moving").number, north.take("moving").number, main_2.take("moving").number]

    assert numbers == ["A-1", "A-1", "A-2"]
    assert queue_link.host.queue.visit_by_number(OTHER_BRANCH, "A-1").device_id == north.device_id


@pytest.mark.parametrize(
    ("category", "set_up", "kind"),
    [
        ("passport", None, RefusalKind.UNKNOWN_CATEGORY),
        ("tax", "close", RefusalKind.CATEGORY_CLOSED),
        ("moving", "evening", RefusalKind.OUTSIDE_HOURS),
    ],
)
def test_takes_the_queue_refuses_come_back_with_their_kind(
    queue_link: QueueLinkEnv, category: str, set_up: str | None, kind: RefusalKind
) -> None:
    """GIVEN an unknown category, a category staff closed at this branch, or 18:00 WHEN the kiosk takes a
    number THEN the RPC error is `refused` with that kind, a message and a hint, and no number is used."""
    kiosk = queue_link.kiosk(BRANCH)
    if set_up == "close":
        queue_link.host.queue.set_category_closed(BRANCH, category, True, actor="sato")
    if set_up == "evening":
        queue_link.clock.advance(9 * 3600)

    refusal = kiosk.refused("queue.take", {"category": category})

    assert refusal.kind == kind and refusal.message and refusal.hint
    if set_up is None:
        assert kiosk.take("moving").number == "A-1"


def test_kiosks_the_central_cannot_place_get_no_number(queue_link: QueueLinkEnv) -> None:
    """GIVEN a kiosk with no birth in the store, and one whose birth named no branch WHEN they take a
    number THEN they are refused `unknown_device` and `unknown_branch` (the request cannot name a branch)."""
    stranger = queue_link.kiosk(born=False)
    nowhere = queue_link.kiosk(None)

    unknown = stranger.refused("queue.take", {"category": "moving", "branch": BRANCH})
    no_branch = nowhere.refused("queue.take", {"category": "moving"})

    assert unknown.kind == RefusalKind.UNKNOWN_DEVICE and stranger.device_id in unknown.message
    assert no_branch.kind == RefusalKind.UNKNOWN_BRANCH


def test_a_kiosk_flooding_queue_take_is_refused_with_a_wait(queue_link: QueueLinkEnv) -> None:
    """GIVEN a bucket of 3 takes per kiosk WHEN one kiosk asks a 4th time THEN it is refused `rate_limited`
    with retry_after_s; its earlier request retried still gets its ticket; another kiosk is not affected."""
    flooding, neighbour = queue_link.kiosk(BRANCH), queue_link.kiosk(BRANCH)
    req_id = str(uuid.uuid4())
    taken = [flooding.take("moving", req_id), flooding.take("moving"), flooding.take("moving")]

    limited = flooding.refused("queue.take", {"category": "moving"})

    assert limited.kind == RefusalKind.RATE_LIMITED and limited.retry_after_s and limited.retry_after_s >= 1
    assert flooding.take("moving", req_id, language="en") == taken[0]
    assert neighbour.take("moving").number == "A-4"


def test_offline_block_and_merge_round_trip_idempotently(queue_link: QueueLinkEnv) -> None:
    """GIVEN a kiosk WHEN it asks for its block twice and merges its offline tickets twice THEN the block
    is the same (1001…1999), the first merge queues A-1001, the resubmission reports duplicates, and a
    number outside its block is rejected with a reason; outcomes come in the order submitted."""
    kiosk = queue_link.kiosk(BRANCH)
    block = BlockView.model_validate(kiosk.call("queue.block", {}))
    assert BlockView.model_validate(kiosk.call("queue.block", {})) == block
    assert (block.block, block.first, block.last) == (1, 1001, 1999)
    issued = int(at_jst(7, 8, 45) * 1000)
    tickets = [
        {"number": "A-1002", "category": "moving", "issued_at": issued + 60_000, "then": ["hoken"]},
        {"number": "A-1001", "category": "moving", "issued_at": issued, "token_hash": "ab" * 32},
        {"number": "A-2001", "category": "moving", "issued_at": issued},
    ]

    first = MergeView.model_validate(kiosk.call("queue.merge", {"tickets": tickets}))
    again = MergeView.model_validate(kiosk.call("queue.merge", {"tickets": tickets}))

    assert [(r.number, r.outcome) for r in first.results] == [
        ("A-1002", MergeResult.MERGED),
        ("A-1001", MergeResult.MERGED),
        ("A-2001", MergeResult.REJECTED),
    ]
    assert "block" in first.results[2].reason
    assert [r.outcome for r in again.results] == [
        MergeResult.DUPLICATE,
        MergeResult.DUPLICATE,
        MergeResult.REJECTED,
    ]
    assert kiosk.take("moving").people_ahead == 2  # the offline tickets wait ahead of it


def test_merge_before_the_kiosk_has_a_block_is_refused(queue_link: QueueLinkEnv) -> None:
    """GIVEN a kiosk that never asked for a block WHEN it merges THEN it is refused `not_found`."""
    kiosk = queue_link.kiosk(BRANCH)
    tickets = [{"number": "A-1001", "category": "moving", "issued_at": int(at_jst(7, 9) * 1000)}]

    refusal = kiosk.refused("queue.merge", {"tickets": tickets})

    assert refusal.kind == RefusalKind.NOT_FOUND
