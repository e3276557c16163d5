"""RPC under load: the kiosk backs off its re-sends, and the central does no work a kiosk gave up on.

Issue 20 item 6: at 50 kiosks every unanswered call was re-sent every 2 s, in step on all kiosks, and a
request that waited in the central's queue past its deadline still ran (a render nobody would print).
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Iterator
from typing import Any, cast

import paho.mqtt.client as mqtt
import pytest

from central_broker.broker import MosquittoBroker
from central_broker.rpc_server import RpcCall, RpcServer
from kiosk_app.rpc_client import RpcClient, RpcTimeout
from madoguchi.config.broker import BrokerConfig
from tests.fixtures.issuance import TestClock


class _FakeClock:
    """A clock that only moves when the client waits."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def wait(self, _event: threading.Event, timeout_s: float) -> bool:
        self.now += timeout_s
        return False  # nobody ever answers


class _UnansweredBroker:
    """Stands in for the paho client: records when each request went out; no answer ever comes."""

    def __init__(self, clock: _FakeClock) -> None:
        self.clock = clock
        self.sent_at: list[float] = []
        self.req_ids: set[str] = set()

    def publish(self, _topic: str, _payload: bytes, qos: int = 0, properties: Any = None) -> None:
        self.sent_at.append(self.clock())
        self.req_ids.add(properties.CorrelationData.decode())


def _sends_of_one_unanswered_call(seed: int) -> tuple[list[float], set[str]]:
    clock = _FakeClock()
    broker = _UnansweredBroker(clock)
    rpc = RpcClient(
        cast(mqtt.Client, broker), "jp-131016-k01", clock=clock, wait=clock.wait, rng=random.Random(seed)
    )
    start = clock()
    with pytest.raises(RpcTimeout):
        rpc.call("certificate.begin", {}, timeout_s=30)
    assert rpc.resent == len(broker.sent_at) - 1
    return [t - start for t in broker.sent_at], broker.req_ids


def test_unanswered_call_backs_off_instead_of_resending_every_two_seconds() -> None:
    """GIVEN a central that does not answer WHEN a kiosk calls with a 30 s deadline
    THEN it re-sends the same request ever more rarely (waits doubling up to 8 s), not 15 times."""
    sent, req_ids = _sends_of_one_unanswered_call(seed=1)
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert len(req_ids) == 1  # every re-send is the same request
    assert len(sent) <= 7  # a fixed 2 s retry sent it 15 times in 30 s
    assert 1.5 <= gaps[0] <= 2.0  # the first re-send comes as soon as before
    assert all(gap <= 8.0 for gap in gaps)
    assert gaps[2] > gaps[0] * 1.5  # and the waits grow


def test_kiosks_that_start_together_do_not_resend_together() -> None:
    """GIVEN two kiosks whose calls go unanswered from the same instant
    THEN their re-sends are spread apart by jitter rather than arriving in step."""
    first, _ = _sends_of_one_unanswered_call(seed=1)
    second, _ = _sends_of_one_unanswered_call(seed=2)
    assert first[1:4] != second[1:4]


@pytest.fixture
def rpc_server_one_thread(mosquitto: MosquittoBroker) -> Iterator[tuple[RpcServer, dict[str, Any]]]:
    """An RPC server with one handler thread: `test.slow` holds it until released; `test.work` counts runs."""
    state: dict[str, Any] = {"started": threading.Event(), "release": threading.Event(), "work_runs": 0}

    def slow(_call: RpcCall) -> dict[str, Any]:
        state["started"].set()
        state["release"].wait(30)
        return {"slow": True}

    def work(_call: RpcCall) -> dict[str, Any]:
        state["work_runs"] += 1
        return {"work": True}

    clock = TestClock(time.time())
    state["clock"] = clock
    server = RpcServer(
        BrokerConfig(url=mosquitto.url), {"test.slow": slow, "test.work": work}, workers=1, clock=clock
    )
    server.start()
    try:
        yield server, state
    finally:
        state["release"].set()
        server.stop()


@pytest.mark.mosquitto
def test_request_whose_deadline_passes_in_the_queue_is_not_run(
    rpc_server_one_thread: tuple[RpcServer, dict[str, Any]], mosquitto: MosquittoBroker
) -> None:
    """GIVEN every handler thread busy and a request waiting behind it WHEN its deadline passes in the
    queue THEN the central never runs it (its kiosk has given up) and serves the next request."""
    server, state = rpc_server_one_thread
    clock: TestClock = state["clock"]
    config = BrokerConfig(url=mosquitto.url)
    busy = RpcClient.connect("jp-131016-k11", config, clock=clock)
    waiting = RpcClient.connect("jp-131016-k12", config, clock=clock, retry_s=0.2)
    outcome: dict[str, object] = {}

    def call(name: str, rpc: RpcClient, method: str, timeout_s: float) -> None:
        try:
            outcome[name] = rpc.call(method, {}, timeout_s=timeout_s)
        except RpcTimeout as exc:
            outcome[name] = exc

    try:
        holder = threading.Thread(target=call, args=("slow", busy, "test.slow", 60))
        holder.start()
        assert state["started"].wait(10)
        queued = threading.Thread(target=call, args=("work", waiting, "test.work", 5))
        queued.start()
        time.sleep(0.5)  # the request and a re-send reach the central and wait for the busy thread
        clock.advance(10)  # past the queued request's deadline
        state["release"].set()
        holder.join(10)
        queued.join(10)
        assert isinstance(outcome["work"], RpcTimeout)
        assert outcome["slow"] == {"slow": True}
        assert waiting.call("test.work", {}, timeout_s=10) == {"work": True}
        assert state["work_runs"] == 1  # only the fresh call ran; the expired one never did
        assert server.expired_in_queue == 1
    finally:
        busy.close()
        waiting.close()
