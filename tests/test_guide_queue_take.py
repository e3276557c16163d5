"""`queue.take` with a web guide visit code over real Mosquitto: the central derives the visit (R-30)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from central_broker.guide import GuideInput
from central_broker.rpc_server import RpcServer
from central_broker.store.telemetry_schema import kiosk_stat
from madoguchi.config.broker import BrokerConfig
from madoguchi.contracts.catalog_guide import Answer, GuideStatus
from madoguchi.contracts.queue import RefusalKind
from tests.queue_link_env import BRANCH, QueueLinkEnv, queue_link

__all__ = ["queue_link"]

pytestmark = [pytest.mark.slow, pytest.mark.mosquitto]

GIVEN = GuideInput(
    ("moving_in",),
    {"has_card": Answer.YES, "national_health": Answer.YES, "children": Answer.YES, "dog": Answer.NO},
)


def _code(env: QueueLinkEnv) -> str:
    takes = env.host.rpc.guide_takes
    assert takes is not None
    code = takes.codes.issue(GIVEN, env.host.queue.catalog.version)
    assert code is not None
    return code


def test_a_visit_code_takes_one_ticket_for_the_guide_counters_in_visit_order(
    queue_link: QueueLinkEnv,
) -> None:
    """GIVEN a resident who answered the guide at home WHEN the kiosk sends the scanned visit code THEN the ticket
    is for the category of the first counter and lists every counter of the guide result (route ④ left out) in
    visit order, whatever category the kiosk sent; AND the take counts as pre-queued from the web guide."""
    kiosk = queue_link.kiosk(BRANCH)
    ticket = kiosk.take("certificates", visit_code=_code(queue_link), language="pt")
    catalog = queue_link.host.queue.catalog
    items = catalog.procedures.results(GIVEN.events, GIVEN.answers)
    expected = list(dict.fromkeys(i.counter.id for i in items if i.status is not GuideStatus.OPTIONAL))
    assert [stop.counter for stop in ticket.counters] == expected
    assert ticket.category == next(c.id for c in catalog.queue.categories if c.counter == expected[0])
    with queue_link.store.engine.connect() as conn:
        kinds = [row.kind for row in conn.execute(select(kiosk_stat.c.kind))]
    assert kinds == ["guide_ticket"]


def test_forged_and_expired_visit_codes_are_refused_with_one_kind(queue_link: QueueLinkEnv) -> None:
    """GIVEN a forged code and a code made yesterday WHEN a kiosk sends them THEN both are refused as
    `visit_code_invalid` with the same message, and no number is issued."""
    kiosk = queue_link.kiosk(BRANCH)
    code = _code(queue_link)
    altered = code.replace("has_card-y", "has_card-n")
    forged = kiosk.refused("queue.take", {"category": "moving", "visit_code": altered})
    queue_link.clock.advance(86_400)
    expired = kiosk.refused("queue.take", {"category": "moving", "visit_code": code})
    assert forged.kind == expired.kind == RefusalKind.VISIT_CODE_INVALID.value
    assert forged.message == expired.message
    assert kiosk.take("moving").number.endswith("-1"), "a refused code used up a number"


def test_a_retried_take_with_a_visit_code_counts_one_pre_queued_ticket(queue_link: QueueLinkEnv) -> None:
    """GIVEN a kiosk whose `queue.take` with a visit code was served just before the central's RPC worker restarted
    WHEN the kiosk sends the same request again to the new worker THEN it gets the same ticket, and the guide KPIs
    count one ticket pre-queued from the web guide, not two; a refused code counts none."""
    kiosk = queue_link.kiosk(BRANCH)
    code = _code(queue_link)
    req_id = str(uuid.uuid4())
    first = kiosk.take("moving", req_id=req_id, visit_code=code)
    queue_link.server.stop()  # the restarted worker has no answer in memory: the retry reaches the handler
    restarted = RpcServer(
        BrokerConfig(url=queue_link.broker.url), queue_link.host.handlers, group=f"rpc-{uuid.uuid4().hex[:8]}"
    )
    restarted.start()
    try:
        again = kiosk.take("moving", req_id=req_id, visit_code=code)
        kiosk.refused("queue.take", {"category": "moving", "visit_code": code[:-2] + "xx"})
    finally:
        restarted.stop()
    assert again.number == first.number
    with queue_link.store.engine.connect() as conn:
        kinds = [row.kind for row in conn.execute(select(kiosk_stat.c.kind))]
    assert kinds == ["guide_ticket"]
