"""sd_notify for the kiosk main loop: READY=1 after the first frame, WATCHDOG=1 every WATCHDOG_USEC/2.

systemd (`Type=notify`, `WatchdogSec=`) restarts a kiosk whose UI stops pinging. Each call also
updates the readiness file the update health gate reads (`provisioning.updates.health`). Outside
systemd (no NOTIFY_SOCKET) the calls only update that file. Usage from the app::

    notifier = Notifier.from_environment(version)
    notifier.ready()                                       # after the first frame
    Clock.schedule_interval(lambda _dt: notifier.watchdog(), notifier.watchdog_interval() or 5)
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from pathlib import Path

from provisioning.updates.health import DEFAULT_READY_FILE, ReadinessFile

__all__ = ["Notifier"]

_logger = logging.getLogger(__name__)


class Notifier:
    """Sends sd_notify datagrams to `$NOTIFY_SOCKET` (path or abstract `@name`)."""

    def __init__(
        self,
        socket_path: str | None,
        watchdog_usec: int | None,
        version: str,
        ready_file: ReadinessFile | None,
    ) -> None:
        self._address = (
            ("\0" + socket_path[1:]) if socket_path and socket_path.startswith("@") else socket_path
        )
        self._watchdog_usec = watchdog_usec
        self._version = version
        self._ready_file = ready_file

    @classmethod
    def from_environment(
        cls, version: str, env: Mapping[str, str] = os.environ, ready_file: Path | None = DEFAULT_READY_FILE
    ) -> Notifier:
        """Read NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID as systemd sets them."""
        usec: int | None = None
        pid = env.get("WATCHDOG_PID")
        if env.get("WATCHDOG_USEC", "").isdigit() and (pid is None or pid == str(os.getpid())):
            usec = int(env["WATCHDOG_USEC"])
        return cls(
            env.get("NOTIFY_SOCKET") or None, usec, version, ReadinessFile(ready_file) if ready_file else None
        )

    def watchdog_interval(self) -> float | None:
        """Seconds between WATCHDOG=1 pings (half of WatchdogSec), or None without a watchdog."""
        return self._watchdog_usec / 2_000_000 if self._watchdog_usec else None

    def ready(self, status: str = "") -> None:
        """The UI is up: READY=1 (plus STATUS) and the readiness file names this version."""
        self._send("READY=1" + (f"\nSTATUS={status}" if status else ""))
        if self._ready_file:
            self._ready_file.ready(self._version)

    def watchdog(self) -> None:
        """The main loop is alive: WATCHDOG=1 and a heartbeat in the readiness file."""
        self._send("WATCHDOG=1")
        if self._ready_file:
            self._ready_file.heartbeat()

    def status(self, text: str) -> None:
        """A one-line status shown by `systemctl status` (never personal data)."""
        self._send(f"STATUS={text}")

    def stopping(self) -> None:
        """The app is shutting down on purpose."""
        self._send("STOPPING=1")

    def _send(self, message: str) -> None:
        if not self._address:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(message.encode(), self._address)
        except OSError as exc:  # never let a notify problem stop the kiosk; systemd will notice
            _logger.warning("sd_notify %s failed: %s", message.split("=")[0], exc)
