"""The fleet commands as a person runs them: `kiosk-central broker|serve|fleet`, `kiosk run`, `madoguchi-demo`."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest

from central_broker.broker import MosquittoBroker, free_port
from central_broker.store import FleetStore, open_store, sqlite_url
from madoguchi.contracts.messages import StateMessage
from tests.fixtures.central_store import wait_for_device

BIN = Path(sys.executable).parent


def run(*argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / argv[0]), *argv[1:]], capture_output=True, text=True, timeout=timeout)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def test_broker_config_writes_the_loopback_dev_listener(tmp_path: Path) -> None:
    result = run("kiosk-central", "broker", "config", "--out", str(tmp_path), "--port", "18830", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    text = Path(info["config"]).read_text()
    assert "listener 18830 127.0.0.1" in text.splitlines()
    assert "allow_anonymous true" in text and "max_packet_size 1048576" in text
    assert info["url"] == "mqtt://127.0.0.1:18830"
    help_text = run("kiosk-central", "broker", "config", "--help").stdout
    assert "development listener" in help_text and "mTLS" in help_text


def test_broker_config_refuses_a_bad_port(tmp_path: Path) -> None:
    result = run("kiosk-central", "broker", "config", "--out", str(tmp_path), "--port", "70000")
    assert result.returncode == 2 and "not a TCP port" in result.stderr


@pytest.mark.mosquitto
def test_broker_run_serves_in_the_foreground_until_sigterm(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "kiosk-central"), "broker", "run", "--port", str(port), "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while not _accepts(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _accepts(port), (
            proc.stderr.read() if proc.poll() is not None and proc.stderr else "not listening"
        )
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
        assert proc.returncode == 0
        assert f"mqtt://127.0.0.1:{port}" in out
        assert not _accepts(port)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_fleet_without_a_store_explains_what_to_do(tmp_path: Path) -> None:
    result = run("kiosk-central", "fleet", "--store", sqlite_url(tmp_path / "missing.db"), "--json")
    assert result.returncode == 2
    assert "no central store" in result.stderr and "kiosk-central serve" in result.stderr
    assert not (tmp_path / "missing.db").exists()
    result = run("kiosk-central", "fleet")
    assert result.returncode == 2 and "--config" in result.stderr


def test_fleet_reads_store_and_stale_window_from_the_central_config(tmp_path: Path) -> None:
    """GIVEN a config with stale_after_s = 30 and a kiosk last seen 60 s ago THEN fleet shows it stale."""
    db = tmp_path / "central.db"
    store = open_store(sqlite_url(db), clock=lambda: time.time() - 60)
    store.record_state(
        "jp-131016-k01",
        StateMessage(online=True, epoch=3, ts=1, boot_id="b", app_ver="2.0.0", catalog_ver=7),
    )
    store.close()
    config = tmp_path / "central.toml"
    config.write_text(
        f'[central]\ndata_dir = "{tmp_path}"\nstore_url = "{sqlite_url(db)}"\n'
        '[broker]\nurl = "mqtt://127.0.0.1:1883"\n[fleet]\nstale_after_s = 30\n'
    )
    result = run("kiosk-central", "fleet", "--config", str(config), "--json")
    assert result.returncode == 0, result.stderr
    (device,) = json.loads(result.stdout)["devices"]
    assert (device["device_id"], device["status"], device["epoch"], device["app_ver"], device["catalog_ver"]) == (
        "jp-131016-k01", "stale", 3, "2.0.0", 7,
    )  # fmt: skip
    table = run("kiosk-central", "fleet", "--config", str(config)).stdout
    assert "jp-131016-k01" in table and "stale" in table and "no health yet" in table


def test_kiosk_run_needs_a_config_or_simulate() -> None:
    result = run("kiosk", "run")
    assert result.returncode == 2 and "--simulate" in result.stderr
    assert "touchscreen" in run("kiosk", "run", "--help").stdout


def test_serve_needs_a_config_or_broker_and_data_dir() -> None:
    result = run("kiosk-central", "serve", "--broker", "mqtt://127.0.0.1:1883")
    assert result.returncode == 2 and "--data-dir" in result.stderr


@pytest.mark.mosquitto
def test_serve_writes_a_kiosk_birth_into_its_store(mosquitto: MosquittoBroker, tmp_path: Path) -> None:
    """GIVEN `kiosk-central serve` WHEN a birth arrives THEN its store lists the kiosk; SIGTERM stops it."""
    from tests.fixtures.fleet import new_device_id
    from tests.fixtures.mosquitto import mqtt_publish

    proc = subprocess.Popen(
        [str(BIN / "kiosk-central"), "serve", "--broker", mosquitto.url, "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    store: FleetStore | None = None
    try:
        deadline = time.monotonic() + 10
        while not (tmp_path / "central.db").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        store = open_store(sqlite_url(tmp_path / "central.db"))
        dev = new_device_id()
        birth = {"online": True, "epoch": 1, "ts": 1, "boot_id": "x", "app_ver": "0.0.1"}
        deadline = time.monotonic() + 10
        while store.device(dev) is None and time.monotonic() < deadline:  # until the ingest has subscribed
            mqtt_publish(mosquitto, f"kiosk/v1/d/{dev}/up/state", json.dumps(birth))
            time.sleep(0.3)
        wait_for_device(store, dev, lambda r: r.app_ver == "0.0.1", what="stored")
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        if store is not None:
            store.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.mosquitto
def test_demo_shows_the_kiosk_online_in_fleet_within_10_s_and_offline_after(tmp_path: Path) -> None:
    """GIVEN `madoguchi-demo --for N --json` WHEN it is ready THEN `kiosk-central fleet --json` lists the
    kiosk online (within 10 s of starting); WHEN it ends THEN the kiosk is offline (shutdown) and
    every child process is gone."""
    began = time.monotonic()
    demo = subprocess.Popen(
        [str(BIN / "madoguchi-demo"), "--for", "8", "--json", "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert demo.stdout is not None
        ready = json.loads(demo.stdout.readline() or "{}")
        assert ready.get("event") == "ready", demo.stderr.read() if demo.stderr else ""
        result = run("kiosk-central", "fleet", "--store", ready["store_url"], "--json")
        assert time.monotonic() - began < 10
        devices = {d["device_id"]: d for d in json.loads(result.stdout)["devices"]}
        assert devices[ready["device_id"]]["status"] == "online"
        assert devices[ready["device_id"]]["components"]["printer"] == "ok"
        assert f"-p {ready['broker_url'].rsplit(':', 1)[1]} -t 'kiosk/v1/#'" in ready["look"]["mqtt"]
        _operator_sees_the_kiosk_on_the_dashboard(ready)
        stopped = json.loads(demo.stdout.readline())
        demo.wait(20)
        assert demo.returncode == 0
        assert (stopped["event"], stopped["kiosk_status"], stopped["offline_reason"]) == (
            "stopped",
            "offline",
            "shutdown",
        )
        for process in ready["processes"]:
            assert not Path(f"/proc/{process['pid']}").exists() or _zombie(process["pid"]), process
    finally:
        if demo.poll() is None:
            demo.send_signal(signal.SIGINT)
            demo.wait(20)


def _operator_sees_the_kiosk_on_the_dashboard(ready: dict[str, Any]) -> None:
    """Sign in with the demo operator account the demo printed and find the kiosk on the fleet page."""
    user, password = next((a["user"], a["password"]) for a in ready["accounts"] if a["role"] == "operator")
    with httpx2.Client(base_url=ready["web_url"], follow_redirects=True, timeout=10) as web:
        form = web.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None, form.text
        page = web.post("/login", data={"username": user, "password": password, "csrf_token": token.group(1)})
        assert page.status_code == 200, page.text
        device = web.get(f"/devices/{ready['device_id']}")
        assert device.status_code == 200
        assert ready["device_id"] in device.text and "online" in device.text.lower()


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def test_demo_help_names_what_it_starts() -> None:
    text = run("madoguchi-demo", "--help").stdout
    for word in ("Mosquitto", "kiosk-central serve", "--simulate", "--for"):
        assert word in text
