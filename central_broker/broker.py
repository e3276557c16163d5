"""Run a local Mosquitto: the plaintext loopback development listener used by tests, the demo and
`kiosk-central broker`.

This module writes the loopback configuration (`listener PORT 127.0.0.1`, anonymous) and runs
Mosquitto as a child process; `broker_fleet` writes the production listeners (mTLS, ACLs).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from madoguchi.errors import UserError
from madoguchi.procs import die_with_parent

__all__ = [
    "DEFAULT_MAX_PACKET_SIZE",
    "LOOPBACK",
    "BrokerError",
    "MosquittoBroker",
    "find_mosquitto",
    "free_port",
    "write_dev_config",
]

_logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
# The contract caps messages at 256 KiB; Mosquitto 2.0.x otherwise accepts the protocol maximum.
DEFAULT_MAX_PACKET_SIZE = 1_048_576
_SEARCH_DIRS = ("/usr/sbin", "/usr/local/sbin")
_PORT_ATTEMPTS = 5


class BrokerError(UserError):
    """Mosquitto is missing, would not start, or did not accept connections."""


def find_mosquitto() -> str | None:
    """Path of the `mosquitto` executable (Debian installs it in /usr/sbin), or None."""
    found = shutil.which("mosquitto")
    if found:
        return found
    for folder in _SEARCH_DIRS:
        candidate = Path(folder) / "mosquitto"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that was free a moment ago (bind port 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def write_dev_config(
    directory: Path,
    port: int,
    *,
    max_packet_size: int = DEFAULT_MAX_PACKET_SIZE,
    persistence_dir: Path | None = None,
    extra: tuple[str, ...] = (),
) -> Path:
    """Write `mosquitto.conf` for the loopback development listener into `directory`.

    Args:
        directory: folder for the file (created if missing).
        port: TCP port of the listener on 127.0.0.1.
        max_packet_size: largest MQTT packet accepted, in bytes.
        persistence_dir: keep sessions and retained messages there across restarts; None keeps
            everything in memory (tests).
        extra: more configuration lines (e.g. `max_queued_messages 100000` for benchmarks).

    Returns:
        The path of the written file.
    """
    if not 0 < port < 65536:
        raise BrokerError(f"port {port} is not a TCP port", "use a number from 1 to 65535")
    directory.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Madoguchi development broker: plaintext MQTT on loopback only, anonymous clients.",
        "# Never expose this listener; the fleet listener uses mTLS and ACLs (contract §6).",
        f"listener {port} {LOOPBACK}",
        "allow_anonymous true",
        f"max_packet_size {max_packet_size}",
        "set_tcp_nodelay true",  # small request/reply packets go out at once (no Nagle delay)
        "persistent_client_expiration 7d",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "log_type information",
        "connection_messages true",
    ]
    if persistence_dir is None:
        lines.append("persistence false")
    else:
        persistence_dir.mkdir(parents=True, exist_ok=True)
        _let_mosquitto_write(persistence_dir)
        lines += ["persistence true", f"persistence_location {persistence_dir.resolve()}/"]
    lines += list(extra)
    path = directory / "mosquitto.conf"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _let_mosquitto_write(folder: Path) -> None:
    """Started as root, Mosquitto drops to the `mosquitto` user; give that user the folder."""
    if os.geteuid() != 0:
        return
    try:
        account = pwd.getpwnam("mosquitto")
    except KeyError:
        return  # no such user: Mosquitto keeps running as root
    os.chown(folder, account.pw_uid, account.pw_gid)


class MosquittoBroker:
    """A Mosquitto child process on the loopback development listener.

    `start()` writes the configuration, runs `mosquitto -c` and waits until the port accepts;
    `restart()` keeps the port; `stop()` terminates, waits and kills if needed. The broker's log
    goes to `log_path` unless `inherit_output` (foreground use).
    """

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        *,
        max_packet_size: int = DEFAULT_MAX_PACKET_SIZE,
        persistence: bool = False,
        inherit_output: bool = False,
        executable: str | None = None,
        extra_config: tuple[str, ...] = (),
    ) -> None:
        self.workdir = workdir
        self._extra_config = extra_config
        self.host = LOOPBACK
        self._fixed_port = port is not None
        self.port = port if port is not None else free_port()
        self._max_packet_size = max_packet_size
        self._persistence = persistence
        self._inherit_output = inherit_output
        self._executable = executable
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._log_offset = 0

    @property
    def url(self) -> str:
        """Broker URL for clients, e.g. `mqtt://127.0.0.1:41234`."""
        return f"mqtt://{self.host}:{self.port}"

    @property
    def config_path(self) -> Path:
        """The generated mosquitto.conf."""
        return self.workdir / "mosquitto.conf"

    @property
    def log_path(self) -> Path:
        """Where the broker's stderr goes (unless output is inherited)."""
        return self.workdir / "mosquitto.log"

    @property
    def pid(self) -> int | None:
        """Process id while running."""
        return self._process.pid if self.is_running else None  # type: ignore[union-attr]

    @property
    def is_running(self) -> bool:
        """Whether the child process is alive."""
        return self._process is not None and self._process.poll() is None

    def log_text(self, *, current_run: bool = False) -> str:
        """What the broker has logged (all runs, or only the latest); empty when output is inherited."""
        try:
            data = self.log_path.read_bytes()
        except FileNotFoundError:
            return ""
        return data[self._log_offset if current_run else 0 :].decode("utf-8", errors="replace")

    def start(self, timeout: float = 5.0) -> None:
        """Write the config, start Mosquitto and wait until it accepts connections.

        Raises:
            BrokerError: mosquitto is not installed, exited, or did not accept within `timeout`.
        """
        if self.is_running:
            return
        executable = self._executable or find_mosquitto()
        if executable is None:
            raise BrokerError(
                "mosquitto is not installed", "run scripts/bootstrap.sh (apt-get install mosquitto)"
            )
        for attempt in range(_PORT_ATTEMPTS):
            self.write_config()
            try:
                self._spawn(executable, timeout)
                return
            except BrokerError:
                in_use = "Address already in use" in self.log_text(current_run=True)
                if not in_use or attempt == _PORT_ATTEMPTS - 1:
                    raise
                if self._fixed_port:
                    time.sleep(0.2)  # a restart can race the old socket's release
                else:
                    self.port = free_port()
                _logger.info("port clash, retrying Mosquitto on port %d", self.port)

    def write_config(self) -> Path:
        """Write `config_path` for the current port (subclasses write other listeners)."""
        persistence_dir = self.workdir / "persistence" if self._persistence else None
        return write_dev_config(
            self.workdir,
            self.port,
            max_packet_size=self._max_packet_size,
            persistence_dir=persistence_dir,
            extra=self._extra_config,
        )

    def reload(self) -> None:
        """SIGHUP: Mosquitto re-reads its ACL file and (2.0.11, tested) its CRL files; not the CA files."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGHUP)

    def _spawn(self, executable: str, timeout: float) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        stderr: IO[bytes] | None = None
        if not self._inherit_output:
            self._close_log()
            self._log = self.log_path.open("ab")
            self._log_offset = self._log.tell()
            stderr = self._log
        self._process = subprocess.Popen(
            [executable, "-c", str(self.config_path)],
            stdin=subprocess.DEVNULL,
            stdout=stderr,
            stderr=stderr,
            start_new_session=True,  # Ctrl-C in a terminal reaches us, not the broker directly
            preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                code = self._process.returncode
                self._process = None
                raise BrokerError(
                    f"mosquitto exited with status {code} on port {self.port}:\n{self.log_text(current_run=True).strip()}",
                    f"check {self.config_path}",
                )
            with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), timeout=0.2):
                _logger.info("Mosquitto %d listening on %s", self._process.pid, self.url)
                return
            time.sleep(0.05)
        self.stop()
        raise BrokerError(
            f"mosquitto did not accept connections on {self.url} within {timeout:.0f} s:\n{self.log_text(current_run=True).strip()}",
            "see the log above",
        )

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the broker: SIGTERM, wait up to `timeout`, then SIGKILL. Safe to call twice."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                _logger.warning("Mosquitto %d ignored SIGTERM; killing it", process.pid)
                process.kill()
                process.wait(timeout)
        self._close_log()

    def restart(self, timeout: float = 5.0) -> None:
        """Stop and start again on the same port (clients must reconnect; no wills are sent)."""
        self.stop(timeout)
        self._fixed_port = True
        self.start(timeout)

    def wait(self) -> int:
        """Block until the broker exits; its exit status."""
        if self._process is None:
            return 0
        return self._process.wait()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
