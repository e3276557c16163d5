"""Retries of `queue.take` / `queue.merge` that reach another RPC worker or a restarted central.

The answer of each (kiosk, req_id) is kept in the central store with the ticket it answers, so a second
service instance on the same database (another worker behind the shared subscription, or the central after a
restart) answers a retry with the very same ticket and never issues a second number.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from central_broker.queue.schema import queue_visit
from central_broker.queue_link import QueueHost
from central_broker.rpc_server import RpcCall, RpcFailure
from central_broker.store import open_store
from madoguchi.config.central import local_central_config
from madoguchi.config.queue import QueueSection
from madoguchi.contracts.catalog import load_sample_catalog
from madoguchi.contracts.queue import MergeResult, MergeView, QueueRefusal, RefusalKind, TicketView
from tests.fixtures.queue import at_jst
from tests.queue_link_env import BRANCH, PUBLIC_URL, QueueLinkEnv, queue_link

__all__ = ["queue_link"]  # the fixture, imported for pytest

DEVICE = "jp-131016-k77"


@pytest.fixture
def second_host(queue_link: QueueLinkEnv, tmp_path: Path) -> Iterator[QueueHost]:
    """Another central process on the same database: its own store engine, queue service and RPC methods."""
    url = str(queue_link.store.engine.url)
    store = open_store(url)
    config = local_central_config(tmp_path / "second", queue_link.broker.url)
    config = config.model_copy(update={"queue": QueueSection(public_url=PUBLIC_URL)})
    host = QueueHost.build(config, store, load_sample_catalog(), publish=False, clock=queue_link.clock)
    yield host
    host.stop()
    store.close()


def _call(env: QueueLinkEnv, method: str, params: dict[str, Any], req_id: str) -> RpcCall:
    return RpcCall(DEVICE, req_id, method, params, int(env.clock() * 1000) + 30_000)


def _visits(env: QueueLinkEnv) -> int:
    with env.store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(queue_visit)).scalar_one())


def test_a_take_retried_at_another_worker_gets_the_same_ticket_and_no_second_number(
    queue_link: QueueLinkEnv, second_host: QueueHost
) -> None:
    """GIVEN a take answered by one central process WHEN the kiosk's retry (same req_id) reaches another process
    on the same database THEN it gets the same number and status token and no visit is added; a new req_id
    there gets the next number; the same req_id for another category is refused `invalid`."""
    queue_link.birth(DEVICE, BRANCH)
    req_id = str(uuid.uuid4())

    first = queue_link.host.rpc.take(_call(queue_link, "queue.take", {"category": "moving"}, req_id))
    retried = second_host.rpc.take(
        _call(queue_link, "queue.take", {"category": "moving", "language": "en"}, req_id)
    )
    fresh = second_host.rpc.take(_call(queue_link, "queue.take", {"category": "moving"}, str(uuid.uuid4())))
    with pytest.raises(RpcFailure) as misuse:
        second_host.rpc.take(_call(queue_link, "queue.take", {"category": "tax"}, req_id))

    assert isinstance(first, TicketView) and retried == first
    assert retried.number == "A-1" and retried.status_token == first.status_token
    assert fresh.number == "A-2"
    assert _visits(queue_link) == 2
    refusal = QueueRefusal.model_validate(misuse.value.data)
    assert refusal.kind == RefusalKind.INVALID


def test_a_take_retried_after_a_central_restart_gets_the_same_ticket(
    queue_link: QueueLinkEnv, second_host: QueueHost
) -> None:
    """GIVEN a take answered WHEN the central process that answered it stops and a new one starts on the same
    database THEN the retry gets the same ticket; its status page still finds the visit."""
    queue_link.birth(DEVICE, BRANCH)
    req_id = str(uuid.uuid4())
    first = queue_link.host.rpc.take(_call(queue_link, "queue.take", {"category": "moving"}, req_id))
    queue_link.host.stop()

    retried = second_host.rpc.take(_call(queue_link, "queue.take", {"category": "moving"}, req_id))

    assert retried == first and _visits(queue_link) == 1
    status = second_host.queue.status_by_token(retried.status_token)
    assert status is not None and status.visit.number == "A-1"


def test_two_workers_running_the_same_take_at_once_issue_one_number(
    queue_link: QueueLinkEnv, second_host: QueueHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN one worker has issued a ticket for a req_id WHEN a second worker, which looked before that commit
    and found nothing, runs the same request THEN its transaction is undone and it answers the first ticket."""
    queue_link.birth(DEVICE, BRANCH)
    req_id = str(uuid.uuid4())
    first = queue_link.host.rpc.take(_call(queue_link, "queue.take", {"category": "moving"}, req_id))
    lookups = iter([None])
    real_find = second_host.rpc.answers.find
    monkeypatch.setattr(second_host.rpc.answers, "find", lambda *a: next(lookups, None) or real_find(*a))

    raced = second_host.rpc.take(_call(queue_link, "queue.take", {"category": "moving"}, req_id))

    assert raced == first and _visits(queue_link) == 1


def test_a_merge_retried_at_another_worker_gets_the_same_outcomes(
    queue_link: QueueLinkEnv, second_host: QueueHost
) -> None:
    """GIVEN offline tickets merged by one process WHEN the retry of that merge reaches another process THEN it
    answers `merged` again (not `duplicate`: the same answer), and nothing is merged twice."""
    queue_link.birth(DEVICE, BRANCH)
    queue_link.host.rpc.block(_call(queue_link, "queue.block", {}, str(uuid.uuid4())))
    tickets = [{"number": "A-1001", "category": "moving", "issued_at": int(at_jst(7, 8, 45) * 1000)}]
    req_id = str(uuid.uuid4())

    first = queue_link.host.rpc.merge(_call(queue_link, "queue.merge", {"tickets": tickets}, req_id))
    retried = second_host.rpc.merge(_call(queue_link, "queue.merge", {"tickets": tickets}, req_id))
    resubmitted = second_host.rpc.merge(
        _call(queue_link, "queue.merge", {"tickets": tickets}, str(uuid.uuid4()))
    )

    assert isinstance(first, MergeView) and retried == first
    assert [r.outcome for r in retried.results] == [MergeResult.MERGED]
    assert [r.outcome for r in resubmitted.results] == [MergeResult.DUPLICATE]
    assert _visits(queue_link) == 1
