"""`kiosk run` under systemd: READY=1 once up, WATCHDOG=1 from its main loop, STOPPING=1 on the way out.

systemd restarts a kiosk whose main loop stops pinging (Type=notify, WatchdogSec=); the update
health gate reads the readiness file the same calls keep fresh.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from central_broker.broker import MosquittoBroker
from tests.fixtures.fleet import new_device_id

pytestmark = pytest.mark.mosquitto


def _receive(sock: socket.socket, until: str, deadline: float) -> list[str]:
    seen: list[str] = []
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            seen += sock.recv(4096).decode().splitlines()
        except TimeoutError:
            break
        if until in seen:
            break
    return seen


def test_kiosk_run_notifies_ready_pings_the_watchdog_and_says_stopping(
    mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    """GIVEN systemd's NOTIFY_SOCKET and WATCHDOG_USEC WHEN the kiosk runs and is stopped
    THEN it sends READY=1, then WATCHDOG=1 repeatedly, then STOPPING=1, and keeps ready.json fresh."""
    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    runtime = tmp_path / "run"
    runtime.mkdir()
    env = {
        **os.environ,
        "NOTIFY_SOCKET": str(sock_path),
        "WATCHDOG_USEC": "4000000",
        "RUNTIME_DIRECTORY": str(runtime),
    }
    env.pop("WATCHDOG_PID", None)
    cmd = [str(Path(sys.executable).parent / "kiosk"), "run", "--simulate", "--broker", mosquitto.url]
    cmd += ["--data-dir", str(tmp_path / "data"), "--device-id", new_device_id()]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        first = _receive(sock, "READY=1", time.monotonic() + 20)
        assert "READY=1" in first, first
        pings = [m for m in _receive(sock, "never", time.monotonic() + 2.5) if m == "WATCHDOG=1"]
        assert len(pings) >= 2, "the main loop pings the watchdog about every second"
        ready = json.loads((runtime / "ready.json").read_text())
        assert ready["pid"] == proc.pid and time.time() - ready["heartbeat_at"] < 5
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
        sock.settimeout(1)
        tail = _receive(sock, "STOPPING=1", time.monotonic() + 1)
        sock.close()
    assert proc.returncode == 0, err.decode()
    assert "STOPPING=1" in tail


@pytest.mark.slow
def test_with_the_touchscreen_the_ui_loop_pings_the_watchdog_and_a_frozen_ui_stops_the_pings(
    mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    """GIVEN `kiosk run --ui on` (the touchscreen, offscreen here) under systemd WHEN the window is up THEN READY=1
    comes and the UI loop pings the watchdog; WHEN the process is frozen THEN the pings stop (systemd would
    restart it), and after it resumes they come back."""
    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    env = {
        **os.environ,
        "NOTIFY_SOCKET": str(sock_path),
        "WATCHDOG_USEC": "4000000",
        "SDL_VIDEODRIVER": "offscreen",
    }
    env.pop("WATCHDOG_PID", None)
    cmd = [
        str(Path(sys.executable).parent / "kiosk"),
        "run",
        "--simulate",
        "--ui",
        "on",
        "--broker",
        mosquitto.url,
    ]
    cmd += ["--data-dir", str(tmp_path / "data"), "--device-id", new_device_id()]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        first = _receive(sock, "READY=1", time.monotonic() + 40)
        assert "READY=1" in first, first
        assert len([m for m in _receive(sock, "never", time.monotonic() + 2.5) if m == "WATCHDOG=1"]) >= 2
        proc.send_signal(signal.SIGSTOP)
        _receive(sock, "never", time.monotonic() + 0.3)  # what was already sent
        assert "WATCHDOG=1" not in _receive(sock, "never", time.monotonic() + 2.0)
        proc.send_signal(signal.SIGCONT)
        assert "WATCHDOG=1" in _receive(sock, "WATCHDOG=1", time.monotonic() + 5)
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        sock.close()
    assert proc.returncode == 0, err.decode()[-2000:]
