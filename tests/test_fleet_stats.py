"""Statistics, events and alerts end to end: kiosk agent → real Mosquitto → ingest → central store.

Nothing lost, nothing doubled: broker restart, centre down for minutes, kiosk SIGKILLed while
draining, several ingest workers on one shared subscription, duplicate batches.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from central_broker.broker import MosquittoBroker
from central_broker.ingest import Ingest
from central_broker.store import FleetStore
from kiosk_app.agent import AgentOptions, FleetAgent, SimulatedDeviceHealth
from kiosk_app.agent.outbox import Outbox
from madoguchi.clock import SteppableClock
from madoguchi.config.central import local_central_config
from madoguchi.config.kiosk import simulated_kiosk_config
from madoguchi.contracts.messages import Severity
from tests.fixtures.fleet import new_device_id
from tests.fixtures.fleet import running_agent as run_agent
from tests.fixtures.mosquitto import mqtt_publish

pytestmark = pytest.mark.mosquitto

ROOT = Path(__file__).resolve().parent.parent


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll until `predicate()`; fail naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


@contextmanager
def running_agent(broker: MosquittoBroker, data_dir: Path, dev: str, **options: Any) -> Iterator[FleetAgent]:
    """An in-process kiosk agent (no drain start delay unless given), stopped on exit."""
    config = simulated_kiosk_config(data_dir, broker.url, dev)
    monotonic = options.pop("monotonic", time.monotonic)
    opts = AgentOptions(
        reconnect_min_s=0.2, reconnect_max_s=1.0, tick_s=0.05, drain_start_delay=lambda: 0.0, **options
    )
    agent = FleetAgent(  # no timesyncd here: the clock counts as synchronised (no `clock-unsynced` alert)
        config, SimulatedDeviceHealth(config), options=opts, monotonic=monotonic, clock_is_synced=lambda: True
    )
    with run_agent(agent):
        yield agent


def _emit(agent: FleetAgent, count: int) -> None:
    for n in range(count):
        agent.emit_statistic("certificate_issued", cert_type="juminhyo", fee_yen=300, n=n)


def test_statistics_arrive_exactly_once_across_a_broker_restart(
    private_mosquitto: MosquittoBroker,
    ingest_for: Callable[[MosquittoBroker], Ingest],
    central_store: FleetStore,
    tmp_path: Path,
) -> None:
    """GIVEN a kiosk draining 300 records WHEN the broker restarts mid-stream and 100 more are journaled
    THEN the store holds seq 1..400 exactly once and the kiosk's outbox is empty."""
    ingest_for(private_mosquitto)
    dev = new_device_id()
    with running_agent(private_mosquitto, tmp_path / "k", dev, min_batch_interval_s=0.3) as agent:
        _emit(agent, 300)
        wait_until(lambda: central_store.stats_count(dev) >= 100, 15, "the first batch in the store")
        private_mosquitto.restart()
        _emit(agent, 100)
        wait_until(lambda: agent.telemetry.outbox.depth() == 0, 30, "the outbox to drain")
    assert central_store.stats_seqs(dev) == list(range(1, 401))
    assert central_store.stats_through(dev) == 400


def test_centre_down_for_minutes_then_back_delivers_everything_once(
    mosquitto: MosquittoBroker,
    ingest_for: Callable[[MosquittoBroker], Ingest],
    central_store: FleetStore,
    tmp_path: Path,
) -> None:
    """GIVEN a kiosk and the ingest WHEN the ingest stops (host offline) for 5 fake minutes while 250
    records are journaled THEN nothing is sent meanwhile and the rows stay; WHEN an ingest returns
    THEN all 260 reach the store exactly once and the outbox empties."""
    first = ingest_for(mosquitto)
    dev = new_device_id()
    clock = SteppableClock(time.monotonic)
    with running_agent(mosquitto, tmp_path / "k", dev, monotonic=clock) as agent:
        _emit(agent, 10)
        wait_until(lambda: central_store.stats_count(dev) == 10, 10, "10 records stored")
        first.stop()
        wait_until(lambda: not agent.telemetry.sender.draining, 10, "the kiosk to see the centre offline")
        _emit(agent, 250)
        for _ in range(5):
            clock.advance(60)
            time.sleep(0.2)
        assert central_store.stats_count(dev) == 10
        assert agent.telemetry.outbox.depth() == 250
        ingest_for(mosquitto)
        wait_until(lambda: agent.telemetry.outbox.depth() == 0, 20, "the outbox to drain")
    assert central_store.stats_seqs(dev) == list(range(1, 261))


def test_kiosk_killed_while_draining_loses_and_doubles_nothing(
    mosquitto: MosquittoBroker,
    ingest_for: Callable[[MosquittoBroker], Ingest],
    central_store: FleetStore,
    tmp_path: Path,
) -> None:
    """GIVEN a kiosk process draining 1,000 records WHEN it is SIGKILLed part-way and started again on
    the same data folder THEN the store holds seq 1..1000 exactly once and its outbox is empty."""
    ingest_for(mosquitto)
    dev = new_device_id()
    data = tmp_path / "kiosk"

    def start(emit: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.fixtures.stats_kiosk", "--broker", mosquitto.url,
             "--data-dir", str(data), "--device-id", dev, "--emit", str(emit), "--interval", "0.2"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=(tmp_path / f"kiosk-{emit}.log").open("wb"),
        )  # fmt: skip

    first = start(1000)
    try:
        wait_until(lambda: central_store.stats_count(dev) >= 200, 30, "part of the records stored")
    finally:
        first.kill()
        first.wait(10)
    stored = central_store.stats_count(dev)
    assert 200 <= stored < 1000
    second = start(0)
    try:
        wait_until(lambda: central_store.stats_count(dev) == 1000, 30, "every record stored")
    finally:
        second.terminate()
        second.wait(10)
    assert central_store.stats_seqs(dev) == list(range(1, 1001))
    assert Outbox(data / "agent" / "outbox.db", clock=time.time).depth() == 0


def test_several_ingest_workers_on_one_shared_subscription_do_not_double_count(
    mosquitto: MosquittoBroker, central_store: FleetStore, store_clock: SteppableClock, tmp_path: Path
) -> None:
    """GIVEN two ingest workers in one shared-subscription group WHEN a kiosk sends 600 records and a
    batch is replayed twice by another client THEN both workers took part, each seq is stored once,
    and every copy of the replayed batch was answered with down/ack through_seq 600."""
    group = f"ingest-{uuid.uuid4().hex[:8]}"
    config = local_central_config(Path("/nonexistent-unused"), mosquitto.url)
    workers = []
    for _ in range(2):
        worker = Ingest(central_store, config.broker, group=group, clock=store_clock)
        worker.start()
        workers.append(worker)
    try:
        for worker in workers:
            assert worker.subscribed.wait(10)
        dev = new_device_id()
        with running_agent(mosquitto, tmp_path / "k", dev, min_batch_interval_s=0.0) as agent:
            for n in range(600):
                agent.emit_statistic("queue_ticket", category="juminhyo", n=n)
                if n % 50 == 0:
                    time.sleep(0.02)  # several batches rather than one
            wait_until(lambda: agent.telemetry.outbox.depth() == 0, 20, "the outbox to drain")
        handled = [w.stats_batches for w in workers]
        assert all(handled), f"one worker took every batch: {handled}"
        acks = _subscribe(mosquitto, f"kiosk/v1/d/{dev}/down/ack", count=2)
        replay = {"batch": [1, 2], "items": [{"seq": 1, "ts": 1, "kind": "queue_ticket"},
                                             {"seq": 2, "ts": 1, "kind": "queue_ticket"}]}  # fmt: skip
        for _ in range(2):
            mqtt_publish(mosquitto, f"kiosk/v1/d/{dev}/up/stats", json.dumps(replay))
        out, _ = acks.communicate(timeout=10)
        assert [json.loads(line)["through_seq"] for line in out.splitlines()] == [600, 600]
        assert central_store.stats_seqs(dev) == list(range(1, 601))
    finally:
        for worker in workers:
            worker.stop()


def _subscribe(broker: MosquittoBroker, topic: str, count: int) -> subprocess.Popen[str]:
    exe = shutil.which("mosquitto_sub")
    if exe is None:
        pytest.skip("mosquitto_sub is not installed")
    process = subprocess.Popen(
        [exe, "-V", "mqttv5", "-h", broker.host, "-p", str(broker.port), "-t", topic, "-q", "1",
         "-C", str(count), "-W", "10"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(0.3)  # let it subscribe
    return process


def test_events_alerts_and_reported_versions_reach_the_store(
    ingest: Ingest, central_store: FleetStore, mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    """GIVEN a kiosk WHEN it raises an alert and sends an event THEN the store lists the open alert and
    the event; WHEN it clears the alert THEN `alerts()` no longer lists it and the closed alert has
    `cleared_at`; its reported versions show in the rollout view."""
    dev = new_device_id()
    with running_agent(mosquitto, tmp_path / "k", dev) as agent:
        agent.raise_alert("printer-paper", "paper_out", Severity.ERROR, "receipt printer out of paper")
        agent.emit_event("card_left_behind", Severity.WARNING, "card removed after 40 s")
        wait_until(lambda: bool(central_store.alerts(device_id=dev)), 10, "the alert in the store")
        alert = central_store.alerts(device_id=dev)[0]
        assert (alert.alert_id, alert.code, alert.severity, alert.open) == (
            "printer-paper", "paper_out", "error", True
        )  # fmt: skip
        wait_until(lambda: bool(central_store.device_events(dev)), 10, "the event in the store")
        assert central_store.device_events(dev)[0].code == "card_left_behind"
        agent.clear_alert("printer-paper")
        wait_until(lambda: not central_store.alerts(device_id=dev), 10, "the alert cleared")
    closed = central_store.alerts(open_only=False, device_id=dev)
    assert len(closed) == 1 and closed[0].cleared_at is not None
    rollout = {r.device_id: r for r in central_store.rollout()}
    assert rollout[dev].reported_version is None and rollout[dev].state == "no-desired"
