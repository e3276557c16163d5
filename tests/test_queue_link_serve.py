"""`kiosk-central serve` with the demo's configuration serves visit numbers and publishes the lamps.

The configuration is the one `madoguchi-demo` writes (`DemoCentral`, with `[queue] always_open = true`), so the
queue issues at every hour like the demo's always-open catalog; the kiosk's branch is the one its birth
reports, as the demo kiosk's `本庁舎 (simulated)`.
"""

from __future__ import annotations

import queue as queue_mod
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from central_broker.broker import MosquittoBroker
from central_broker.store import DeviceRecord, open_store
from central_broker.web.server import WebServer
from kiosk_app.rpc_client import RpcClient, RpcTimeout
from madoguchi.config.broker import BrokerConfig
from madoguchi.config.kiosk import SIMULATED_BRANCH
from madoguchi.contracts.messages import StateMessage
from madoguchi.contracts.queue import CongestionView, TicketView
from madoguchi.contracts.topics import Down, Up, down, up
from madoguchi.mqtt_client import make_client
from madoguchi_demo.central import DemoCentral
from tests.fixtures.fleet import new_device_id, wait_for
from tests.fixtures.mosquitto import mqtt_publish

pytestmark = [pytest.mark.mosquitto, pytest.mark.slow]


def test_demo_central_serves_queue_numbers_and_lamps(tmp_path: Path, mosquitto: MosquittoBroker) -> None:
    """GIVEN `kiosk-central serve --config` of the demo and a kiosk born at the demo branch WHEN the kiosk
    takes a "moving" number THEN it gets A-1 with a status page on the central's web address, its
    down/queue lamps show the branch and then one resident waiting, and SIGTERM stops the central (0)."""
    port = WebServer.free_port()
    central = DemoCentral(tmp_path / "central", mosquitto.url, port)
    config = central.write(tmp_path / "kiosk" / "trust")
    command = [
        str(Path(sys.executable).with_name("kiosk-central")),
        "serve",
        "--config",
        str(config),
        "--web-port",
        str(port),
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    device = new_device_id()
    views: queue_mod.Queue[CongestionView] = queue_mod.Queue()
    subscribed = threading.Event()
    lamps = make_client(f"{device}-lamps", BrokerConfig(url=mosquitto.url))
    lamps.on_connect = lambda c, *_a: c.subscribe(down(device, Down.QUEUE), qos=1)
    lamps.on_subscribe = lambda *_a: subscribed.set()
    lamps.on_message = lambda _c, _u, msg: views.put(CongestionView.from_bytes(bytes(msg.payload)))
    lamps.connect_async(mosquitto.host, mosquitto.port, keepalive=30)
    lamps.loop_start()
    rpc = RpcClient.connect(device, BrokerConfig(url=mosquitto.url), retry_s=1.0)
    try:
        assert subscribed.wait(10)
        birth = StateMessage(
            online=True,
            epoch=1,
            ts=int(time.time() * 1000),
            boot_id="b",
            app_ver="1.0.0",
            branch=SIMULATED_BRANCH,
        )
        mqtt_publish(mosquitto, up(device, Up.STATE), birth.to_bytes(), retain=True)
        wait_for(lambda: proc.poll() is not None or (config.parent / "central.db").exists(), "the store", 120)
        _alive(proc)
        store = open_store(central.store_url)
        try:
            wait_for(lambda: proc.poll() is not None or _born(store.device(device)), "the birth", 120)
        finally:
            store.close()
        _alive(proc)
        deadline = time.monotonic() + 60
        while True:
            try:
                ticket = TicketView.model_validate(
                    rpc.call("queue.take", {"category": "moving"}, timeout_s=5)
                )
                break
            except RpcTimeout:
                _alive(proc)
                assert time.monotonic() < deadline, "queue.take was not answered"

        assert ticket.number == "A-1"
        assert ticket.status_url == f"http://127.0.0.1:{port}/q/{ticket.status_token}"
        seen: list[CongestionView] = []
        deadline = time.monotonic() + 30
        while not any(_waiting(v) == 1 for v in seen) and time.monotonic() < deadline:
            try:
                seen.append(views.get(timeout=max(0.1, deadline - time.monotonic())))
            except queue_mod.Empty:
                break
        assert seen and all(v.branch == SIMULATED_BRANCH and v.issuing for v in seen)
        assert _waiting(seen[-1]) == 1
    finally:
        rpc.close()
        lamps.disconnect()
        lamps.loop_stop()
        if proc.poll() is None:
            proc.terminate()
    assert proc.wait(30) == 0


def _waiting(view: CongestionView) -> int:
    return next(c.waiting for c in view.categories if c.category == "moving")


def _alive(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        pytest.fail(
            f"the central exited ({proc.returncode}): {proc.stdout.read().decode() if proc.stdout else ''}"
        )


def _born(record: DeviceRecord | None) -> bool:
    return record is not None and bool(record.branch)
