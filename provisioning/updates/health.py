"""Health gate after a switch: pluggable; by default the readiness file the app writes from its main loop.

The kiosk app calls `ReadinessFile.ready(version)` once its first frame is up (with sd_notify READY=1)
and `ReadinessFile.heartbeat()` from its main loop (with WATCHDOG=1) and after each MQTT health
message. The update manager waits until that file names the new version, with a heartbeat newer
than the switch.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

__all__ = [
    "DEFAULT_READY_FILE",
    "CommandRestarter",
    "HealthCheck",
    "HealthResult",
    "ReadinessCheck",
    "ReadinessFile",
    "Restarter",
]

DEFAULT_READY_FILE = Path("/run/madoguchi/ready.json")


@dataclass(frozen=True)
class HealthResult:
    """Outcome of the health gate."""

    healthy: bool
    detail: str


class HealthCheck(Protocol):
    """Decides whether the newly switched release is up."""

    def wait(self, version: str, since: float, timeout_s: float) -> HealthResult:
        """Block up to `timeout_s` for `version` to be ready with a heartbeat newer than `since`."""
        ...


class Restarter(Protocol):
    """Restarts the app so it runs from `releases/current`."""

    def restart(self) -> None:
        """Restart; raise `RuntimeError` if the restart itself failed."""
        ...


class ReadinessFile:
    """`ready.json` written by the app: version, pid, ready_at, heartbeat_at (epoch seconds)."""

    def __init__(self, path: Path = DEFAULT_READY_FILE) -> None:
        self.path = path
        self._version = ""
        self._ready_at = 0.0

    def ready(self, version: str) -> None:
        """The app is up (first frame shown): record its version."""
        self._version, self._ready_at = version, time.time()
        self._write(self._ready_at)

    def heartbeat(self) -> None:
        """The main loop is alive (and, from the agent, a health message went out)."""
        if self._version:
            self._write(time.time())

    def _write(self, heartbeat_at: float) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "version": self._version,
            "pid": os.getpid(),
            "ready_at": self._ready_at,
            "heartbeat_at": heartbeat_at,
        }
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(record))
        os.replace(tmp, self.path)

    def read(self) -> dict[str, object] | None:
        """The last record, or None when absent or half-written."""
        try:
            raw = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return None
        return raw if isinstance(raw, dict) else None


class ReadinessCheck:
    """Default health check: poll the readiness file."""

    def __init__(
        self,
        path: Path = DEFAULT_READY_FILE,
        poll_s: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.file = ReadinessFile(path)
        self.poll_s = poll_s
        self.sleep = sleep

    def wait(self, version: str, since: float, timeout_s: float) -> HealthResult:
        """Healthy once the file names `version`, ready and with a heartbeat after `since`."""
        deadline = time.monotonic() + timeout_s
        seen = "nothing"
        while True:
            record = self.file.read()
            if record is not None:
                ready_at = float(record.get("ready_at", 0) or 0)  # type: ignore[arg-type]
                beat_at = float(record.get("heartbeat_at", 0) or 0)  # type: ignore[arg-type]
                if record.get("version") != version:
                    seen = f"version {record.get('version')!r} running"
                elif ready_at < since:
                    seen = "no READY since the switch"
                elif beat_at <= ready_at:
                    seen = "READY but no heartbeat"
                else:
                    return HealthResult(True, f"{version} ready, heartbeat seen")
            if time.monotonic() >= deadline:
                return HealthResult(False, f"{version} not healthy within {timeout_s:g} s ({seen})")
            self.sleep(self.poll_s)


class CommandRestarter:
    """Restart by running a command, by default `systemctl restart kiosk-ui.service`."""

    def __init__(
        self,
        argv: Sequence[str] = ("systemctl", "restart", "kiosk-ui.service"),
        timeout_s: float = 120,
    ) -> None:
        self.argv = list(argv)
        self.timeout_s = timeout_s

    def restart(self) -> None:
        """Run the command; a non-zero exit means the app did not come up."""
        try:
            result = subprocess.run(
                self.argv, capture_output=True, text=True, timeout=self.timeout_s, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RuntimeError(f"restart command failed: {exc}") from exc
        if result.returncode != 0:
            raise RuntimeError(f"restart command exited {result.returncode}: {result.stderr.strip()[-300:]}")
