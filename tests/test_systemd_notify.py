"""sd_notify from the kiosk: real datagrams on a unix socket, as systemd receives them."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from kiosk_app.systemd_notify import Notifier
from provisioning.updates import ReadinessCheck


def test_ready_and_watchdog_reach_the_notify_socket_and_the_readiness_file(tmp_path: Path) -> None:
    """GIVEN NOTIFY_SOCKET and WatchdogSec=20s WHEN the app notifies THEN systemd gets READY=1 then WATCHDOG=1,
    the ping interval is 10 s, and the update health gate sees the version ready with a heartbeat."""
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))
        server.settimeout(2)
        env = {"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "20000000", "WATCHDOG_PID": str(os.getpid())}
        notifier = Notifier.from_environment("4.2.0", env, tmp_path / "ready.json")
        assert notifier.watchdog_interval() == 10.0
        notifier.ready("serving")
        notifier.watchdog()
        assert server.recv(1024) == b"READY=1\nSTATUS=serving"
        assert server.recv(1024) == b"WATCHDOG=1"
    assert ReadinessCheck(tmp_path / "ready.json").wait("4.2.0", 0, 0).healthy


def test_abstract_socket_and_watchdog_for_another_pid(tmp_path: Path) -> None:
    """GIVEN an abstract NOTIFY_SOCKET and a WATCHDOG_PID of another process WHEN notified THEN the datagram
    arrives and no watchdog interval is claimed (the watchdog is not ours)."""
    name = f"@madoguchi-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind("\0" + name[1:])
        server.settimeout(2)
        notifier = Notifier.from_environment(
            "1.0.0", {"NOTIFY_SOCKET": name, "WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1"}, None
        )
        assert notifier.watchdog_interval() is None
        notifier.stopping()
        assert server.recv(1024) == b"STOPPING=1"


def test_without_systemd_nothing_is_sent_and_nothing_fails(tmp_path: Path) -> None:
    """GIVEN no NOTIFY_SOCKET (a developer run) WHEN notified THEN only the readiness file changes."""
    notifier = Notifier.from_environment("1.0.0", {}, tmp_path / "ready.json")
    notifier.ready()
    notifier.watchdog()
    assert (tmp_path / "ready.json").exists()
