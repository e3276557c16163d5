"""The demo stack: Mosquitto, `kiosk-central serve` and one `kiosk run --simulate` as child processes.

The central serves certificate issuance against the card emulator's test CA (`madoguchi_demo.central`), with an
always-open catalog and visit queue. The kiosk runs as a bare fleet link (`link`), with its touchscreen
(`window`), or with autopilot residents taking certificates, visit numbers, the procedure guide (with a ticket
for its counters, so the guide KPIs move) and paying register orders (`autopilot`). Simulated counter staff
work the kiosk's branch (`madoguchi_demo.visit_queue`), so the display board, the status pages and the queue
KPIs move.

Used by `madoguchi-demo` (and `make demo`). Children run in their own process groups so Ctrl-C
reaches only the demo, which then stops them in order: kiosk first (its clean shutdown reaches
the central store), then the central, then the broker.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from central_broker.accounts.models import Role
from central_broker.broker import MosquittoBroker, free_port
from central_broker.store import DeviceRecord, DeviceStatus, open_store, sqlite_url
from central_broker.web.setup import open_accounts
from madoguchi.config.central import local_central_config
from madoguchi.config.kiosk import SIMULATED_BRANCH
from madoguchi.contracts.topics import FLEET_HOST_STATE
from madoguchi.errors import UserError
from madoguchi.procs import die_with_parent
from madoguchi_demo.central import DemoCentral
from madoguchi_demo.visit_queue import DemoQueue

__all__ = ["DEMO_DEVICE_ID", "ChildProcess", "DemoError", "DemoStack", "console_script"]

_logger = logging.getLogger(__name__)

DEMO_DEVICE_ID = "jp-999999-k01"
_STOP_TIMEOUT_S = 10.0
# autopilot: a visit number and a guide run after every 4th certificate (the first one included)
QUEUE_EVERY_PAIRS = 4


class DemoError(UserError):
    """A part of the demo did not start or did not come online."""


def console_script(name: str) -> list[str]:
    """Command prefix for one of our console scripts, preferring the one beside this Python."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return [str(beside)]
    module = {"kiosk": "kiosk_app.cli", "kiosk-central": "central_broker.cli"}[name]
    return [sys.executable, "-c", f"import sys; from {module} import main; sys.exit(main())"]


@dataclass
class ChildProcess:
    """One child of the demo, with its log file."""

    name: str
    command: list[str]
    log_path: Path
    process: subprocess.Popen[bytes]
    log: IO[bytes]

    def log_tail(self, lines: int = 30) -> str:
        """The last lines the child wrote to stderr/stdout."""
        self.log.flush()
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = _STOP_TIMEOUT_S) -> int:
        """SIGTERM, wait, SIGKILL if needed; its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                _logger.warning("%s ignored SIGTERM; killing it", self.name)
                self.process.kill()
                self.process.wait(timeout)
        self.log.close()
        return self.process.returncode


def wait_for_host_online(
    url_host: str, port: int, timeout: float, alive: Callable[[], bool] = lambda: True
) -> bool:
    """Wait for the ingest's retained `fleet/host/state` birth (it subscribes before publishing it).

    Gives up early when `alive()` turns False (the central process exited).
    """
    seen = threading.Event()

    def on_connect(client: mqtt.Client, *_: Any) -> None:
        client.subscribe(FLEET_HOST_STATE, qos=1)

    def on_message(_client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            if json.loads(message.payload).get("online") is True:
                seen.set()
        except (ValueError, AttributeError):
            pass

    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"demo-watch-{os.getpid()}", protocol=mqtt.MQTTv5
    )
    client.on_connect = on_connect
    client.on_message = on_message
    client.connect(url_host, port)
    client.loop_start()
    deadline = time.monotonic() + timeout
    try:
        while not seen.wait(0.1):
            if not alive() or time.monotonic() > deadline:
                return False
        return True
    finally:
        client.disconnect()
        client.loop_stop()


class DemoStack:
    """Broker, central and one simulated kiosk under `data_dir`."""

    def __init__(
        self,
        data_dir: Path,
        device_id: str = DEMO_DEVICE_ID,
        *,
        kiosk_mode: str = "link",
        residents: int = 50,
        screenshots: Path | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.device_id = device_id
        self.kiosk_mode = kiosk_mode
        self.residents = residents
        self.screenshots = screenshots
        self.broker = MosquittoBroker(data_dir / "broker")
        self.children: list[ChildProcess] = []
        self.store_url = sqlite_url(data_dir / "central" / "central.db")
        self.web_port = free_port()
        self.central = DemoCentral(data_dir / "central", self.broker.url, self.web_port)
        self.queue = DemoQueue(self.central.config_path)
        # One account per role, with fresh random passwords, so a person can sign in to the dashboard.
        self.accounts = {
            role: (f"demo-{role}", secrets.token_urlsafe(9)) for role in ("operator", "staff", "auditor")
        }

    def _spawn(self, name: str, command: list[str]) -> ChildProcess:
        log_path = self.data_dir / "logs" / f"{name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = log_path.open("ab")
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        child = ChildProcess(name, command, log_path, process, log)
        self.children.append(child)
        return child

    def _failed(self, what: str) -> DemoError:
        details = [
            f"--- {c.name} (pid {c.process.pid}, log {c.log_path}) ---\n{c.log_tail()}" for c in self.children
        ]
        details.append(f"--- mosquitto (log {self.broker.log_path}) ---\n{self.broker.log_text()[-2000:]}")
        return DemoError(what + "\n" + "\n".join(details), "fix the error shown above and run the demo again")

    def start(self, online_timeout: float = 10.0) -> float:
        """Start everything; wait until the kiosk is online, with its health, in the central store, and the web
        answers; then start the simulated counter staff.

        Returns:
            Seconds from start until the store showed the kiosk online.

        Raises:
            DemoError: something exited or the kiosk was not online within `online_timeout`.
        """
        self._add_accounts()
        began = time.monotonic()
        deadline = began + online_timeout
        self.broker.start()
        self.central.broker_url = self.broker.url
        config = self.central.write(self.kiosk_dir / "trust")
        self.queue.prepare()  # the board secret exists before the central's web reads it
        central = self._spawn(
            "central",
            [*console_script("kiosk-central"), "-v", "serve", "--config", str(config),
             "--web-port", str(self.web_port)],
        )  # fmt: skip
        remaining = max(0.1, deadline - time.monotonic())
        if not wait_for_host_online(
            self.broker.host, self.broker.port, remaining, lambda: central.process.poll() is None
        ):
            raise self._failed(
                f"the central ingest did not come online (exit status {central.process.poll()})"
            )
        self._spawn(
            "kiosk",
            [*console_script("kiosk"), "-v", "run", "--simulate", "--broker", self.broker.url,
             "--data-dir", str(self.kiosk_dir), "--device-id", self.device_id, *self._kiosk_args()],
        )  # fmt: skip
        while time.monotonic() < deadline:
            record = self.kiosk_record()
            online = record is not None and record.status is DeviceStatus.ONLINE and record.health is not None
            if online and record is not None and self._web_answers():
                online_after = time.monotonic() - began
                self.queue.begin(record.branch or "", residents_at_kiosk=self.kiosk_mode == "autopilot")
                return online_after
            self.check_children()
            time.sleep(0.2)
        raise self._failed(
            f"the kiosk {self.device_id} was not online in the central store (or the web did not answer) "
            f"within {online_timeout:.0f} s"
        )

    def _web_answers(self) -> bool:
        """The central's web server accepts connections (the printed URLs work)."""
        try:
            socket.create_connection(("127.0.0.1", self.web_port), timeout=0.5).close()
        except OSError:
            return False
        return True

    @property
    def kiosk_dir(self) -> Path:
        """The simulated kiosk's data folder (printed certificates and receipts under `printed/`)."""
        return self.data_dir / "kiosk"

    def _kiosk_args(self) -> list[str]:
        if self.kiosk_mode == "window":
            return ["--ui", "on"]
        if self.kiosk_mode != "autopilot":
            return ["--ui", "off"]
        scenarios: list[str] = []
        for i, code in enumerate(self.central.create_orders(self.residents)):
            queue = ["queue"] if i % QUEUE_EVERY_PAIRS == 0 else []  # a number every ~10 s: staff keep up
            guide = ["guide"] if i % QUEUE_EVERY_PAIRS == 0 else []  # 手続きガイド → ticket for its counters
            scenarios += ["certificate", *queue, *guide, f"register:{code}"]
        shots = ["--screenshots", str(self.screenshots)] if self.screenshots else []
        return ["--autopilot", ",".join(scenarios), *shots]

    @property
    def web_url(self) -> str:
        """Where the operators' dashboard and the counter staff's register page are served."""
        return f"http://127.0.0.1:{self.web_port}/"

    def _add_accounts(self) -> None:
        config = local_central_config(self.data_dir / "central", self.broker.url)
        config.central.data_dir.mkdir(parents=True, exist_ok=True)
        store = open_store(config.central.store_url)
        try:
            accounts = open_accounts(store, config)
            for role, (user, password) in self.accounts.items():
                branches = (SIMULATED_BRANCH,) if role == Role.STAFF.value else ()  # the demo kiosk's branch
                accounts.add_user(user, password, Role(role), actor="demo", branches=branches)
        finally:
            store.close()

    def kiosk_record(self) -> DeviceRecord | None:
        """The demo kiosk as the central store sees it (None before the store exists)."""
        try:
            store = open_store(self.store_url, create=False)
        except UserError:
            return None
        try:
            return store.device(self.device_id)
        finally:
            store.close()

    def check_children(self) -> None:
        """Raise if a child or the broker has exited."""
        for child in self.children:
            status = child.process.poll()
            if status == 0 and child.name == "kiosk" and self.kiosk_mode == "autopilot":
                self.queue.reception_takes_over()  # no more kiosk residents: keep the board moving
                continue  # the autopilot played every resident it was given
            if status is not None:
                raise self._failed(f"{child.name} exited with status {child.process.returncode}")
        if not self.broker.is_running:
            raise self._failed("mosquitto exited")

    def stop(self) -> DeviceRecord | None:
        """Stop the kiosk, let its shutdown reach the store, then the central and the broker.

        Returns:
            The kiosk's final record in the store.
        """
        self.queue.stop()
        for child in [c for c in self.children if c.name == "kiosk"]:
            child.stop()
        record = self.kiosk_record()
        deadline = time.monotonic() + 3.0
        while (
            record is not None and record.status is not DeviceStatus.OFFLINE and time.monotonic() < deadline
        ):
            time.sleep(0.1)
            record = self.kiosk_record()
        for child in [c for c in self.children if c.name != "kiosk"]:
            child.stop()
        self.broker.stop()
        return record
