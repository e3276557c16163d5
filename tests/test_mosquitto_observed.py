"""What Mosquitto 2.0.11 does where docs/fleet-link.md relies on it, so the docs cannot drift from it.

- Retained messages **are** sent to shared subscriptions (`$share/g/…`): every member that subscribes
  gets every matching retained message, retain flag set (MQTT 5 §4.8.2 says they are not; EMQX and
  HiveMQ follow the spec). So an ingest that starts after a kiosk's birth still records it.
- A kiosk whose network dies silently is declared dead (will published) more than ⌊1.5 × keepalive⌋ s
  after the last packet the broker got from it and at most ~6 s later: Mosquitto checks keepalives in
  one sweep every 6 whole seconds (`keepalive__check`, `last_keepalive_check + 5 < now_s`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from central_broker.broker import MosquittoBroker
from central_broker.ingest import Ingest
from central_broker.store import DeviceStatus, FleetStore
from madoguchi.config import dump_toml
from madoguchi.config.kiosk import simulated_kiosk_config
from tests.fixtures.central_store import wait_for_device
from tests.fixtures.fleet import new_device_id, wait_for
from tests.fixtures.mosquitto import mqtt_publish

pytestmark = pytest.mark.mosquitto

Received = list[tuple[float, mqtt.MQTTMessage]]  # (time.monotonic() on arrival, message)


@pytest.fixture
def subscriber(mosquitto: MosquittoBroker) -> Iterator[Callable[..., Received]]:
    """Factory: a paho MQTT 5 client subscribed to `topic` (QoS 1); returns the list it fills."""
    clients: list[mqtt.Client] = []

    def start(topic: str, broker: MosquittoBroker = mosquitto) -> Received:
        received: Received = []
        subscribed = threading.Event()
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"observe-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5
        )
        client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        client.on_subscribe = lambda *_: subscribed.set()
        client.on_message = lambda _c, _u, message: received.append((time.monotonic(), message))
        client.connect(broker.host, broker.port)
        client.loop_start()
        clients.append(client)
        assert subscribed.wait(10), f"no SUBACK for {topic}"
        return received

    yield start
    for client in clients:
        client.disconnect()
        client.loop_stop()


def test_shared_subscription_members_receive_retained_messages(
    mosquitto: MosquittoBroker, subscriber: Callable[..., Received]
) -> None:
    """GIVEN a retained message WHEN two members of one shared-subscription group subscribe one after
    the other THEN each receives it with the retain flag (Mosquitto 2.0.11, unlike MQTT 5 §4.8.2),
    while a live message afterwards goes to one member only."""
    base = f"observe/{uuid.uuid4().hex[:8]}"
    mqtt_publish(mosquitto, f"{base}/state", "kept", retain=True)
    first = subscriber(f"$share/g/{base}/#")
    wait_for(lambda: first, "the retained message at the first member")
    second = subscriber(f"$share/g/{base}/#")
    wait_for(lambda: second, "the retained message at the second member")
    for member in (first, second):
        assert [(m.topic, m.payload, m.retain) for _, m in member] == [(f"{base}/state", b"kept", True)]
    mqtt_publish(mosquitto, f"{base}/live", "once")
    wait_for(lambda: len(first) + len(second) == 3, "the live message at one member")
    time.sleep(0.5)
    assert len(first) + len(second) == 3  # shared: not delivered to both


def test_ingest_started_after_a_retained_birth_records_the_kiosk_online(
    mosquitto: MosquittoBroker, ingest_for: Callable[[MosquittoBroker], Ingest], central_store: FleetStore
) -> None:
    """GIVEN a kiosk's retained birth published while no ingest is subscribed WHEN an ingest starts
    (`$share/…` subscription) THEN it receives the retained birth and records the kiosk online."""
    dev = new_device_id()
    birth = {"online": True, "epoch": 3, "ts": int(time.time() * 1000), "boot_id": uuid.uuid4().hex,
             "app_ver": "1.0.0"}  # fmt: skip
    mqtt_publish(mosquitto, f"kiosk/v1/d/{dev}/up/state", json.dumps(birth), retain=True)
    ingest_for(mosquitto)
    record = wait_for_device(
        central_store, dev, lambda r: r.status is DeviceStatus.ONLINE, what="online from the retained birth"
    )
    assert record.epoch == 3


def test_silent_kiosk_will_arrives_after_1_5_keepalive_plus_the_6_s_sweep(
    mosquitto: MosquittoBroker, subscriber: Callable[..., Received], tmp_path: Path
) -> None:
    """GIVEN `kiosk run` with keepalive 5 s WHEN it is SIGSTOPped right after its birth (its network
    silently dead: no PINGREQ, socket open) THEN its will arrives after ⌊1.5 × 5⌋ = 7 s and within
    7 + 6 s (sweep) + 1 s (whole-second clock); measured 7.5–12.9 s."""
    keepalive = 5
    dev = new_device_id()
    config = simulated_kiosk_config(tmp_path / "data", mosquitto.url, dev)
    config = config.model_copy(update={"broker": config.broker.model_copy(update={"keepalive": keepalive})})
    path = tmp_path / "kiosk.toml"
    path.write_text(dump_toml(config), encoding="utf-8")
    states = subscriber(f"kiosk/v1/d/{dev}/up/state")
    log_path = tmp_path / "kiosk.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "kiosk"), "run", "--ui", "off", "--config", str(path)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )  # fmt: skip
    stopped_at = 0.0
    try:
        wait_for(lambda: any(json.loads(m.payload)["online"] for _, m in states), "the birth", timeout=20)
        os.kill(process.pid, signal.SIGSTOP)  # its last packets went out with the birth
        stopped_at = time.monotonic()
        limit = 1.5 * keepalive + 6 + 3  # sweep + whole seconds + margin for a loaded machine
        wait_for(
            lambda: any(not json.loads(m.payload)["online"] for _, m in states),
            "the will",
            timeout=limit,
        )
    finally:
        process.kill()  # SIGKILL also ends a stopped process
        process.wait(10)
    arrived, will = next((t, m) for t, m in states if not json.loads(m.payload)["online"])
    assert json.loads(will.payload)["reason"] == "lwt", log_path.read_text(errors="replace")
    assert arrived - stopped_at >= 1.5 * keepalive - 1, f"will after {arrived - stopped_at:.2f} s"
