"""Simulated kiosks for `benchmarks/fleet_ingest.py`: many MQTT 5 clients in one process.

Each kiosk speaks the real protocol: client id = device id, `down/#` subscription, statistics
batches (≤ 100 items, one in flight, next batch on `down/ack`), and catalog updates (verify the
DSSE signature with the catalog key, fetch the body by hash, check length and sha256, answer
`up/ack` APPLIED). The outbox is kept in memory (the benchmark measures the centre, not the
kiosk's SD card). Sockets are driven by one epoll loop (paho's external-loop API).
"""

from __future__ import annotations

import hashlib
import json
import resource
import selectors
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from paho.mqtt.enums import CallbackAPIVersion

from madoguchi.contracts.signed import DesiredDocument, Envelope, PayloadType, key_id, verify

__all__ = ["run_simulator"]


@dataclass
class SimKiosk:
    """One simulated kiosk."""

    device_id: str
    client: mqtt.Client
    pending: list[tuple[int, float]] = field(default_factory=list)  # (seq, created wall time)
    next_seq: int = 1
    in_flight: int | None = None  # last seq of the batch awaiting down/ack
    body_topic: str | None = None
    ref: Any = None
    duplicate_first: bool = False


class Simulator:
    """All kiosks of one process."""

    def __init__(self, device_ids: list[str], port: int, catalog_key: bytes, first_seq: int = 1) -> None:
        self.selector = selectors.DefaultSelector()
        self.keys = {}
        public = Ed25519PublicKey.from_public_bytes(catalog_key)
        self.keys[key_id(public)] = public
        self.kiosks: dict[str, SimKiosk] = {}
        self.latencies: list[float] = []
        self.acked = 0
        self.applied = 0
        self.want_write: set[mqtt.Client] = set()
        self.port = port
        for dev in device_ids:
            client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=dev, protocol=mqtt.MQTTv5)
            kiosk = SimKiosk(dev, client, next_seq=first_seq)
            client.user_data_set(kiosk)
            client.on_connect = self._on_connect
            client.on_message = self._on_message
            client.on_socket_register_write = lambda c, _u, _s: self.want_write.add(c)
            client.on_socket_unregister_write = lambda c, _u, _s: self.want_write.discard(c)
            self.kiosks[dev] = kiosk

    def connect_all(self) -> None:
        for kiosk in self.kiosks.values():
            kiosk.client.connect("127.0.0.1", self.port, keepalive=120)
            sock = kiosk.client.socket()
            assert sock is not None
            self.selector.register(sock, selectors.EVENT_READ, kiosk.client)
            self.pump(0)

    def pump(self, timeout: float) -> None:
        for key, _ in self.selector.select(timeout):
            key.data.loop_read()
        for client in list(self.want_write):
            client.loop_write()

    def misc(self) -> None:
        for kiosk in self.kiosks.values():
            kiosk.client.loop_misc()

    def connected(self) -> int:
        return sum(1 for k in self.kiosks.values() if k.client.is_connected())

    # --- protocol -------------------------------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, kiosk: SimKiosk, _f: Any, _rc: Any, _p: Any) -> None:
        client.subscribe(f"kiosk/v1/d/{kiosk.device_id}/down/#", qos=1)

    def add_items(self, kiosk: SimKiosk, count: int) -> None:
        now = time.time()
        for _ in range(count):
            kiosk.pending.append((kiosk.next_seq, now))
            kiosk.next_seq += 1
        self.send(kiosk)

    def send(self, kiosk: SimKiosk) -> None:
        if kiosk.in_flight is not None or not kiosk.pending:
            return
        chunk = kiosk.pending[:100]
        items = [
            {"seq": s, "ts": int(t * 1000), "kind": "certificate_issued", "fee_yen": 300} for s, t in chunk
        ]
        payload = json.dumps({"batch": [chunk[0][0], chunk[-1][0]], "items": items}).encode()
        topic = f"kiosk/v1/d/{kiosk.device_id}/up/stats"
        kiosk.client.publish(topic, payload, qos=1)
        if kiosk.duplicate_first:
            kiosk.client.publish(topic, payload, qos=1)  # a duplicate the ingest must not count
            kiosk.duplicate_first = False
        kiosk.in_flight = chunk[-1][0]

    def _on_message(self, client: mqtt.Client, kiosk: SimKiosk, message: mqtt.MQTTMessage) -> None:
        topic = message.topic
        if topic.endswith("/down/ack"):
            through = json.loads(message.payload)["through_seq"]
            now = time.time()
            done = [t for s, t in kiosk.pending if s <= through]
            self.latencies.extend(now - t for t in done)
            self.acked += len(done)
            kiosk.pending = [(s, t) for s, t in kiosk.pending if s > through]
            if kiosk.in_flight is not None and through >= kiosk.in_flight:
                kiosk.in_flight = None
            self.send(kiosk)
        elif topic.endswith("/down/desired") and message.payload:
            envelope = Envelope.from_bytes(message.payload)
            desired = DesiredDocument.from_bytes(verify(envelope, PayloadType.DESIRED, self.keys))
            kiosk.ref = desired.catalog
            kiosk.body_topic = desired.catalog.url[len("mqtt:") :]
            client.subscribe(kiosk.body_topic, qos=1)
        elif kiosk.body_topic is not None and topic == kiosk.body_topic:
            ref = kiosk.ref
            body = bytes(message.payload)
            status = (
                "APPLIED"
                if len(body) == ref.length and hashlib.sha256(body).hexdigest() == ref.sha256
                else "FAILED"
            )
            ack = {"ref": f"catalog-v{ref.version}", "kind": "catalog", "status": status, "detail": "",
                   "ts": int(time.time() * 1000)}  # fmt: skip
            client.publish(f"kiosk/v1/d/{kiosk.device_id}/up/ack", json.dumps(ack).encode(), qos=1)
            client.unsubscribe(kiosk.body_topic)
            kiosk.body_topic = None
            self.applied += 1


def _rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_simulator(
    device_ids: list[str], port: int, catalog_key: bytes, control: Connection, first_seq: int = 1
) -> None:
    """Child-process entry: obey commands from `control` until "stop"; statistics start at `first_seq`."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sim = Simulator(device_ids, port, catalog_key, first_seq)
    sim.connect_all()
    rate = 0.0
    rate_until = 0.0
    owed = 0.0
    order = list(sim.kiosks.values())
    cursor = 0
    last_misc = last_tick = time.monotonic()
    while True:
        sim.pump(0.005)
        now = time.monotonic()
        if now - last_misc > 1.0:
            sim.misc()
            last_misc = now
        if rate and now < rate_until:
            owed += rate * (now - last_tick)
            while owed >= 1:
                sim.add_items(order[cursor % len(order)], 1)
                cursor += 1
                owed -= 1
        last_tick = now
        if control.poll():
            command, arg = control.recv()
            if command == "status":
                control.send({"connected": sim.connected(), "acked": sim.acked, "applied": sim.applied,
                              "rss_kib": _rss_kib()})  # fmt: skip
            elif command == "preload":
                for kiosk in order:
                    kiosk.duplicate_first = True
                    sim.add_items(kiosk, arg)
            elif command == "rate":
                rate, duration = arg
                rate_until = now + duration
                sim.latencies.clear()
            elif command == "latencies":
                control.send(sim.latencies)
            elif command == "stop":
                for kiosk in order:
                    kiosk.client.disconnect()
                sim.pump(0.1)
                control.send("stopped")
                return
