"""Ingest throughput: health messages per second from many kiosks into the central store.

Starts a private Mosquitto and the ingest (SQLite, WAL + synchronous=FULL: one commit per
message), publishes `--messages` health messages over `--devices` device ids in chunks of
`--chunk` (below Mosquitto's default queue of 1000 per client, which drops excess silently) and
waits for the ingest to store each chunk. Contract §8 expects 120-300 msg/s for the whole fleet.

    .venv/bin/python benchmarks/ingest_throughput.py --devices 200 --messages 3000
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from central_broker.broker import MosquittoBroker
from central_broker.ingest import Ingest
from central_broker.ingest_dispatch import Handled
from central_broker.store import open_store, sqlite_url
from madoguchi.config.central import local_central_config
from madoguchi.contracts.messages import ComponentHealth, ComponentStatus, HealthMessage, PrinterHealth


class CountingIngest(Ingest):
    """The real ingest, counting what it stored."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.stored = 0
        self.changed = threading.Condition()

    def handle(self, topic: str, payload: bytes | bytearray) -> Handled | None:
        outcome = super().handle(topic, payload)
        with self.changed:
            self.stored += 1
            self.changed.notify_all()
        return outcome


def _health(ts: int) -> bytes:
    ok = ComponentHealth(status=ComponentStatus.OK)
    return HealthMessage(
        ts=ts, epoch=1, app_ver="0.1.0", uptime=1, load=0.1, mem=10, disk=20,
        printer=PrinterHealth(status=ComponentStatus.OK), card_reader=ok, payment=ok, scanner=ok, touch=ok,
        net=ok, outbox_depth=0, clock_synced=True,
    ).to_bytes()  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description="ingest throughput into the central store")
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--chunk", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        broker = MosquittoBroker(Path(tmp) / "broker")
        broker.start()
        store = open_store(sqlite_url(Path(tmp) / "central.db"))
        ingest = CountingIngest(store, local_central_config(Path(tmp), broker.url).broker)
        ingest.start()
        ingest.subscribed.wait(10)
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench", protocol=mqtt.MQTTv5)
        client.connect(broker.host, broker.port)
        client.loop_start()
        devices = [f"jp-999999-k{i:04d}" for i in range(args.devices)]
        began = time.perf_counter()
        sent = 0
        while sent < args.messages:
            for _ in range(min(args.chunk, args.messages - sent)):
                client.publish(f"kiosk/v1/d/{devices[sent % len(devices)]}/up/health", _health(sent), qos=1)
                sent += 1
            with ingest.changed:
                if not ingest.changed.wait_for(lambda: ingest.stored >= sent, timeout=60):  # noqa: B023
                    raise SystemExit(f"ingest stalled at {ingest.stored} of {sent}")
        elapsed = time.perf_counter() - began
        client.loop_stop()
        ingest.stop()
        devices_stored = len(store.devices())
        store.close()
        broker.stop()
    print(f"devices             {args.devices} (stored: {devices_stored})")
    print(f"messages            {args.messages} in chunks of {args.chunk}")
    print(f"elapsed             {elapsed:.2f} s")
    print(
        f"throughput          {args.messages / elapsed:.0f} health msg/s (one ingest, SQLite WAL, synchronous=FULL)"
    )


if __name__ == "__main__":
    main()
