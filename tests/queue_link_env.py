"""Set-up of the queue link tests: the queue RPC methods and lamp publisher on a real Mosquitto, and kiosks.

`queue_link` (a fixture, import it into the test module) is a `QueueLinkEnv`: a central store, a
`QueueHost` (queue core frozen at Monday 09:00 JST, status pages at `PUBLIC_URL`, `take_burst` 3 with
no refill) serving on its own `RpcServer`, and the congestion publisher polling every 0.2 s.
`env.kiosk(branch)` records a birth of a fresh kiosk at `branch` and connects it: an `RpcClient` that
also keeps each response (so the refusal `data` can be read) and a subscription to its `down/queue`.
"""

from __future__ import annotations

import itertools
import queue as queue_mod
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from central_broker.broker import MosquittoBroker
from central_broker.queue_link import QueueHost, TokenBuckets
from central_broker.rpc_server import RpcServer
from central_broker.store import FleetStore, open_store, sqlite_url
from kiosk_app.rpc_client import RpcCallError, RpcClient
from madoguchi.clock import SteppableClock
from madoguchi.config.broker import BrokerConfig
from madoguchi.config.central import local_central_config
from madoguchi.config.queue import QueueSection
from madoguchi.contracts.catalog import load_sample_catalog
from madoguchi.contracts.messages import StateMessage
from madoguchi.contracts.queue import CongestionView, QueueRefusal, TicketView
from madoguchi.contracts.rpc import RpcErrorCode, RpcResponse
from madoguchi.contracts.topics import Down, down
from madoguchi.mqtt_client import make_client
from tests.fixtures.queue import T0

__all__ = ["BRANCH", "OTHER_BRANCH", "PUBLIC_URL", "KioskLink", "QueueLinkEnv", "queue_link"]

BRANCH = "本庁舎"
OTHER_BRANCH = "北支所"
PUBLIC_URL = "https://madoguchi.city.example"
_numbers = itertools.count(10)


class RecordingRpcClient(RpcClient):
    """The kiosk's RPC client, keeping every response it matched (the refusal data is in `error.data`)."""

    responses: dict[str, RpcResponse]

    def handle(self, msg: mqtt.MQTTMessage) -> bool:
        """Match as the kiosk does, then keep the response."""
        matched = super().handle(msg)
        if matched:
            response = RpcResponse.from_bytes(bytes(msg.payload))
            self.responses[response.req_id] = response
        return matched


@dataclass
class KioskLink:
    """One kiosk: its RPC client and the `CongestionView`s received on its `down/queue`."""

    device_id: str
    rpc: RecordingRpcClient
    lamps_client: mqtt.Client
    views: queue_mod.Queue[CongestionView] = field(default_factory=queue_mod.Queue)

    def call(self, method: str, params: dict[str, Any], req_id: str | None = None) -> dict[str, Any]:
        """One RPC call (result or `RpcCallError`)."""
        return self.rpc.call(method, params, timeout_s=10.0, req_id=req_id or str(uuid.uuid4()))

    def take(self, category: str, req_id: str | None = None, **params: Any) -> TicketView:
        """`queue.take`, expected to succeed."""
        return TicketView.model_validate(self.call("queue.take", {"category": category, **params}, req_id))

    def refused(self, method: str, params: dict[str, Any], req_id: str | None = None) -> QueueRefusal:
        """Call `method`, expecting code `refused`; the `QueueRefusal` it carries."""
        rid = req_id or str(uuid.uuid4())
        with pytest.raises(RpcCallError) as caught:
            self.call(method, params, rid)
        assert caught.value.code is RpcErrorCode.REFUSED, caught.value
        refusal = QueueRefusal.from_error(self.rpc.responses[rid].error)
        assert refusal is not None
        return refusal

    def next_view(self, predicate: Callable[[CongestionView], bool], timeout: float = 10.0) -> CongestionView:
        """The first lamp view received that satisfies `predicate` (earlier ones are skipped)."""
        deadline = time.monotonic() + timeout
        last = None
        while (left := deadline - time.monotonic()) > 0:
            try:
                last = self.views.get(timeout=left)
            except queue_mod.Empty:
                break
            if predicate(last):
                return last
        pytest.fail(f"{self.device_id}: no matching lamp view within {timeout} s; last: {last}")

    def close(self) -> None:
        """Disconnect both clients."""
        self.rpc.close()
        self.lamps_client.disconnect()
        self.lamps_client.loop_stop()


@dataclass
class QueueLinkEnv:
    """The central side under test and a factory of kiosks."""

    broker: MosquittoBroker
    store: FleetStore
    host: QueueHost
    server: RpcServer
    clock: SteppableClock
    kiosks: list[KioskLink] = field(default_factory=list)

    def birth(self, device_id: str, branch: str | None) -> None:
        """The kiosk's birth as the ingest records it (its branch from its configuration)."""
        message = StateMessage(
            online=True, epoch=1, ts=int(time.time() * 1000), boot_id="boot", app_ver="1.0.0", branch=branch
        )
        self.store.record_state(device_id, message)

    def kiosk(self, branch: str | None = BRANCH, *, born: bool = True) -> KioskLink:
        """A fresh kiosk at `branch` (birth recorded unless `born=False`), connected to the broker."""
        device_id = f"jp-131016-k{next(_numbers)}{uuid.uuid4().int % 10_000:04d}"
        if born:
            self.birth(device_id, branch)
        broker = BrokerConfig(url=self.broker.url)
        rpc = RecordingRpcClient.connect(device_id, broker, retry_s=1.0)
        assert isinstance(rpc, RecordingRpcClient)
        rpc.responses = {}
        views: queue_mod.Queue[CongestionView] = queue_mod.Queue()
        subscribed = threading.Event()
        lamps = make_client(f"{device_id}-lamps", broker)
        lamps.on_connect = lambda c, *_a: c.subscribe(down(device_id, Down.QUEUE), qos=1)
        lamps.on_subscribe = lambda *_a: subscribed.set()
        lamps.on_message = lambda _c, _u, msg: views.put(CongestionView.from_bytes(bytes(msg.payload)))
        lamps.connect_async(self.broker.host, self.broker.port, keepalive=30, clean_start=True)
        lamps.loop_start()
        assert subscribed.wait(10), "the kiosk's lamp subscription was not acknowledged"
        link = KioskLink(device_id, rpc, lamps, views)
        self.kiosks.append(link)
        return link


@pytest.fixture
def queue_link(tmp_path: Path, mosquitto: MosquittoBroker) -> Iterator[QueueLinkEnv]:
    """The queue link on the session broker (see the module docstring)."""
    clock = SteppableClock(base=lambda: T0)
    store = open_store(sqlite_url(tmp_path / "central" / "central.db"))
    config = local_central_config(tmp_path / "central", mosquitto.url)
    config = config.model_copy(update={"queue": QueueSection(public_url=PUBLIC_URL)})
    host = QueueHost.build(config, store, load_sample_catalog(), poll_s=0.2, clock=clock)
    host.rpc.limiter = TokenBuckets(3, 1, clock=lambda: 0.0)  # no refill: the 4th take of a kiosk is refused
    server = RpcServer(BrokerConfig(url=mosquitto.url), host.handlers, group=f"rpc-{uuid.uuid4().hex[:8]}")
    server.start()
    host.start()
    env = QueueLinkEnv(mosquitto, store, host, server, clock)
    yield env
    for kiosk in env.kiosks:
        kiosk.close()
    host.stop()
    server.stop()
    store.close()
