"""The fleet link through a real Mosquitto: kiosk agent → broker → ingest → central store."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from central_broker.broker import MosquittoBroker
from central_broker.ingest import Ingest
from central_broker.store import DeviceStatus, FleetStore
from kiosk_app.agent import AgentOptions, FleetAgent, SimulatedDeviceHealth
from madoguchi import __version__
from madoguchi.clock import SteppableClock
from madoguchi.config import dump_toml
from madoguchi.config.kiosk import simulated_kiosk_config
from madoguchi.contracts.messages import ComponentHealth, ComponentStatus
from tests.fixtures.central_store import wait_for_device
from tests.fixtures.fleet import KioskProcess, new_device_id
from tests.fixtures.mosquitto import mqtt_publish

pytestmark = pytest.mark.mosquitto

StartKiosk = Callable[..., KioskProcess]


def _online(record: object) -> bool:
    return getattr(record, "status", None) is DeviceStatus.ONLINE


def _state(device_id: str) -> str:
    return f"kiosk/v1/d/{device_id}/up/state"


def test_birth_marks_kiosk_online_with_versions_and_health(
    ingest: Ingest, central_store: FleetStore, mosquitto: MosquittoBroker, kiosk_process: StartKiosk
) -> None:
    """GIVEN the ingest WHEN a simulated kiosk starts THEN the store shows it online with its versions
    and the health of its emulated devices."""
    dev = new_device_id()
    kiosk = kiosk_process(mosquitto, dev)
    record = wait_for_device(
        central_store, dev, lambda r: _online(r) and r.health is not None, what="online with health"
    )
    assert record.epoch == 1
    assert record.app_ver == __version__
    assert record.boot_id and len(record.boot_id) == 32
    assert record.catalog_ver is None  # no catalog installed yet
    health = record.health
    assert health is not None and health.epoch == 1
    assert health.printer.status is ComponentStatus.OK and health.printer.paper == "ok"
    for part in (health.card_reader, health.payment, health.scanner, health.touch, health.net):
        assert part.status is ComponentStatus.OK
    assert 0 < health.mem <= 100 and 0 < health.disk <= 100
    assert [e.code for e in central_store.events(dev)] == ["online"]
    assert kiosk.process.poll() is None, kiosk.log()


def test_sigkilled_kiosk_goes_offline_through_its_will(
    ingest: Ingest, central_store: FleetStore, mosquitto: MosquittoBroker, kiosk_process: StartKiosk
) -> None:
    """GIVEN an online kiosk WHEN its process is SIGKILLed THEN the broker's will marks it offline (lwt)."""
    dev = new_device_id()
    kiosk = kiosk_process(mosquitto, dev)
    wait_for_device(central_store, dev, _online, what="online")
    kiosk.kill()
    record = wait_for_device(central_store, dev, lambda r: r.status is DeviceStatus.OFFLINE, what="offline")
    assert record.offline_reason == "lwt"


def test_clean_stop_goes_offline_with_reason_shutdown(
    ingest: Ingest, central_store: FleetStore, mosquitto: MosquittoBroker, kiosk_process: StartKiosk
) -> None:
    """GIVEN an online kiosk WHEN it gets SIGTERM THEN it exits 0 and the store shows offline (shutdown)."""
    dev = new_device_id()
    kiosk = kiosk_process(mosquitto, dev)
    wait_for_device(central_store, dev, _online, what="online")
    assert kiosk.terminate() == 0, kiosk.log()
    record = wait_for_device(central_store, dev, lambda r: r.status is DeviceStatus.OFFLINE, what="offline")
    assert record.offline_reason == "shutdown"
    assert "shutdown announced" in kiosk.log()


def test_old_epoch_will_after_new_birth_is_ignored(
    ingest: Ingest,
    central_store: FleetStore,
    mosquitto: MosquittoBroker,
    kiosk_process: StartKiosk,
    tmp_path: Path,
) -> None:
    """GIVEN a kiosk restarted (epoch 2) WHEN the will of its first connection (epoch 1) arrives late
    THEN it stays online; an offline of the current epoch still takes it offline."""
    dev = new_device_id()
    data = tmp_path / "kiosk"
    first = kiosk_process(mosquitto, dev, data)
    wait_for_device(central_store, dev, lambda r: _online(r) and r.epoch == 1, what="epoch 1")
    first.terminate()
    kiosk_process(mosquitto, dev, data)
    wait_for_device(central_store, dev, lambda r: _online(r) and r.epoch == 2, what="epoch 2")
    now = int(time.time() * 1000)
    stale = {"online": False, "epoch": 1, "ts": now, "reason": "lwt"}
    mqtt_publish(mosquitto, _state(dev), json.dumps(stale), retain=True)
    wait_for_device(
        central_store, dev, lambda _: "stale_will_ignored" in [e.code for e in central_store.events(dev)],
        what="the stale will handled",
    )  # fmt: skip
    record = central_store.device(dev)
    assert record is not None and record.status is DeviceStatus.ONLINE and record.epoch == 2
    current = {**stale, "epoch": 2}
    mqtt_publish(mosquitto, _state(dev), json.dumps(current), retain=True)
    record = wait_for_device(central_store, dev, lambda r: r.status is DeviceStatus.OFFLINE, what="offline")
    assert record.offline_reason == "lwt"


def test_epoch_persists_and_increases_across_restarts(
    ingest: Ingest,
    central_store: FleetStore,
    mosquitto: MosquittoBroker,
    kiosk_process: StartKiosk,
    tmp_path: Path,
) -> None:
    """GIVEN one data folder WHEN the kiosk runs three times THEN its epochs are 1, 2, 3 on disk and in the store."""
    dev = new_device_id()
    data = tmp_path / "kiosk"
    for expected in (1, 2, 3):
        kiosk = kiosk_process(mosquitto, dev, data)
        wait_for_device(
            central_store, dev, lambda r, e=expected: _online(r) and r.epoch == e, what=f"epoch {expected}"
        )
        assert kiosk.terminate() == 0
        assert (data / "agent" / "epoch").read_text().strip() == str(expected)


def test_online_kiosk_turns_stale_after_the_window_and_back_with_health(
    ingest: Ingest,
    central_store: FleetStore,
    store_clock: SteppableClock,
    mosquitto: MosquittoBroker,
    tmp_path: Path,
) -> None:
    """GIVEN an online kiosk WHEN 181 s pass without health THEN it is stale; WHEN a component changes
    THEN the agent sends health at once and the kiosk is online again with that status."""
    dev = new_device_id()
    config = simulated_kiosk_config(tmp_path / "kiosk", mosquitto.url, dev)
    devices = SimulatedDeviceHealth(config)
    agent = FleetAgent(config, devices, options=AgentOptions(reconnect_min_s=0.5, tick_s=0.05))
    stop = threading.Event()
    runner = threading.Thread(target=agent.run, args=(stop,))
    agent.start()
    runner.start()
    try:
        wait_for_device(central_store, dev, lambda r: _online(r) and r.health is not None, what="online")
        store_clock.advance(181)
        record = central_store.device(dev)
        assert record is not None and record.status is DeviceStatus.STALE
        devices.set("printer", ComponentHealth(status=ComponentStatus.WARNING, code="paper-near-end"))
        record = wait_for_device(central_store, dev, _online, what="online again")
        assert record.health is not None and record.health.printer.status is ComponentStatus.WARNING
    finally:
        stop.set()
        runner.join()
        assert agent.stop() is True


def test_bad_payloads_are_logged_by_topic_and_reason_and_do_not_stop_the_ingest(
    ingest: Ingest, central_store: FleetStore, mosquitto: MosquittoBroker, caplog: pytest.LogCaptureFixture
) -> None:
    """GIVEN the ingest WHEN garbage arrives on device topics THEN each is dropped with its topic and
    reason (never the payload) and a following valid birth is still stored."""
    caplog.set_level(logging.INFO, logger="central_broker")
    dev = new_device_id()
    secret = "SECRET-PAYLOAD-MARKER"
    bad = [
        (_state(dev), b"\xff\xfe not utf-8"),
        (_state(dev), f"not json {secret}".encode()),
        (_state(dev), json.dumps({"online": True, "epoch": -1, "ts": 1, "boot_id": secret}).encode()),
        (_state(dev), json.dumps([secret]).encode()),
        (f"kiosk/v1/d/{dev}/up/health", json.dumps({"ts": secret}).encode()),
        (f"kiosk/v1/d/{dev}/up/health", b"[" * 5000),
    ]
    for topic, payload in bad:
        mqtt_publish(mosquitto, topic, payload)
    birth = {
        "online": True,
        "epoch": 7,
        "ts": int(time.time() * 1000),
        "boot_id": "b" * 32,
        "app_ver": "9.9.9",
    }
    mqtt_publish(mosquitto, _state(dev), json.dumps(birth))
    record = wait_for_device(central_store, dev, _online, what="online after garbage")
    assert record.epoch == 7 and record.app_ver == "9.9.9"
    assert ingest.connected.is_set()
    dropped = [r.getMessage() for r in caplog.records if "dropped bad" in r.getMessage()]
    assert len(dropped) == len(bad), dropped
    assert any("epoch" in m and "greater than or equal to 0" in m for m in dropped)
    assert any("not UTF-8 JSON" in m for m in dropped)
    assert all(dev in m for m in dropped)
    assert secret not in caplog.text


def test_broker_restart_kiosk_reconnects_and_rebirths(
    private_mosquitto: MosquittoBroker,  # first, so it is torn down after the ingest
    ingest_for: Callable[[MosquittoBroker], Ingest],
    central_store: FleetStore,
    kiosk_process: StartKiosk,
) -> None:
    """GIVEN an online kiosk WHEN the broker restarts THEN the kiosk reconnects with a new epoch and
    the store shows its new birth (Mosquitto 2.0 sends the wills of its clients when stopped by
    SIGTERM, so the kiosk may show offline in between)."""
    service = ingest_for(private_mosquitto)
    dev = new_device_id()
    kiosk = kiosk_process(private_mosquitto, dev)
    wait_for_device(central_store, dev, lambda r: _online(r) and r.epoch == 1, what="epoch 1")
    private_mosquitto.restart()
    record = wait_for_device(
        central_store, dev, lambda r: _online(r) and r.epoch == 2, timeout=15, what="re-birth with epoch 2"
    )
    events = [(e.code, e.epoch) for e in central_store.events(dev)]
    assert events[0] == ("online", 1) and events[-1] == ("online", 2), events
    assert service.connected.is_set()
    assert record.boot_id is not None
    assert kiosk.process.poll() is None, kiosk.log()


def test_kiosk_run_with_a_config_file_reports_unmonitored_devices_as_unknown(
    ingest: Ingest, central_store: FleetStore, mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    """GIVEN a kiosk TOML file WHEN `kiosk run --config` starts THEN the kiosk is online and its real
    devices show "unknown" (their drivers do not report status yet) rather than a made-up "ok"."""
    dev = new_device_id()
    path = tmp_path / "kiosk.toml"
    path.write_text(dump_toml(simulated_kiosk_config(tmp_path / "data", mosquitto.url, dev)))
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "kiosk"), "run", "--config", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        record = wait_for_device(central_store, dev, lambda r: r.health is not None, what="health")
        assert record.status is DeviceStatus.ONLINE
        assert record.health is not None
        assert record.health.card_reader.status is ComponentStatus.UNKNOWN
        assert record.health.net.status is ComponentStatus.OK
    finally:
        proc.terminate()
        proc.wait(10)
    assert (tmp_path / "data" / "agent" / "epoch").read_text().strip() == "1"


def test_agent_recreates_its_client_after_a_long_outage_and_comes_back(
    private_mosquitto: MosquittoBroker,  # first, so it is torn down after the ingest
    ingest_for: Callable[[MosquittoBroker], Ingest],
    central_store: FleetStore,
    tmp_path: Path,
) -> None:
    """GIVEN an agent whose broker is gone longer than `recreate_after_s` WHEN the broker returns
    THEN a fresh MQTT client reconnects and the kiosk is online with a newer epoch."""
    ingest_for(private_mosquitto)
    dev = new_device_id()
    config = simulated_kiosk_config(tmp_path / "kiosk", private_mosquitto.url, dev)
    options = AgentOptions(reconnect_min_s=0.2, reconnect_max_s=0.5, recreate_after_s=1.0, tick_s=0.05)
    agent = FleetAgent(config, SimulatedDeviceHealth(config), options=options)
    stop = threading.Event()
    runner = threading.Thread(target=agent.run, args=(stop,))
    agent.start()
    runner.start()
    try:
        first_epoch = wait_for_device(central_store, dev, _online, what="online").epoch or 0
        first_client = agent._client
        private_mosquitto.stop()
        deadline = time.monotonic() + 5
        while agent._client is first_client and time.monotonic() < deadline:
            time.sleep(0.05)
        assert agent._client is not first_client, "the client was not recreated"
        private_mosquitto.start()
        record = wait_for_device(
            central_store, dev, lambda r: _online(r) and (r.epoch or 0) > first_epoch, what="back online"
        )
        assert record.epoch == agent.epoch
    finally:
        stop.set()
        runner.join()
        agent.stop()
