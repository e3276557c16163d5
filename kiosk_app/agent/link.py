"""The kiosk's fleet link: MQTT session with will, birth, health and clean shutdown (contract §3).

Before every CONNECT the epoch is bumped on disk and the will (`up/state` offline, retained,
QoS 1, reason "lwt") is set with it; every `on_connect` subscribes `down/#`, then publishes the
retained birth and `up/reported`. Health goes out after each birth, every `health.interval_s`
and whenever a component's status or the clock's NTP synchronisation changes. `stop()` publishes
the retained "shutdown" state, waits (bounded) for its PUBACK and disconnects, which discards the will.

Statistics, events and alerts go through `Telemetry` (outbox, sender); other downlink topics
(catalog, commands, kill switch) go to handlers added with `add_downlink()`. On every connect
the agent subscribes `down/#` and the fleet documents it needs (keys, control, host state,
manifest) — not `fleet/#`, which would bring every town's catalog body.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any, cast

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from kiosk_app.agent.epoch import EpochCounter
from kiosk_app.agent.health import DeviceHealth, DeviceHealthProvider, build_health
from kiosk_app.agent.hooks import AgentHooks, Clock, Downlink
from kiosk_app.agent.options import AgentOptions
from kiosk_app.agent.outbox import Outbox
from kiosk_app.agent.sender import StatsSender
from kiosk_app.agent.staff_calls import StaffCalls
from kiosk_app.agent.system import clock_synced, read_system_metrics
from kiosk_app.agent.telemetry import Telemetry
from kiosk_app.rpc_client import RpcClient
from madoguchi import __version__
from madoguchi.config.kiosk import KioskConfig
from madoguchi.contracts.messages import HealthMessage, ReportedMessage, StateMessage
from madoguchi.contracts.topics import (
    FLEET_CATALOG_MANIFEST,
    FLEET_CONTROL,
    FLEET_HOST_STATE,
    FLEET_KEYS,
    Up,
    device_down_filter,
    up,
)
from madoguchi.mqtt_client import SESSION_EXPIRY_S, connect_properties, make_client, reason_text

__all__ = ["FleetAgent"]

_logger = logging.getLogger(__name__)


class FleetAgent(AgentHooks):
    """One kiosk's MQTT presence. `start()`, then `run(stop_event)` in the main thread, then `stop()`.

    Args:
        config: the kiosk configuration (identity, broker, data folder, health interval).
        devices: component status provider.
        options: timing knobs.
        clock: seconds since the Unix epoch.
        app_ver: version string reported in birth and health.
        catalog_ver: the installed catalog version (None before one is installed).
        outbox_depth: rows waiting in the statistics outbox (default: this agent's outbox).
        monotonic: monotonic seconds for the outbox sender (tests move it).
        clock_is_synced: whether NTP has synchronised the clock (default: systemd-timesyncd's flag file);
            sent as `clock_synced` in health, at once when it changes, and shown on the kiosk's home screen.
    """

    def __init__(
        self,
        config: KioskConfig,
        devices: DeviceHealthProvider,
        *,
        options: AgentOptions | None = None,
        clock: Clock = time.time,
        app_ver: str = __version__,
        catalog_ver: Callable[[], int | None] = lambda: None,
        outbox_depth: Callable[[], int] | None = None,
        monotonic: Clock = time.monotonic,
        clock_is_synced: Callable[[], bool] = clock_synced,
    ) -> None:
        self.config = config
        self.device_id = config.device_id
        self.options = options or AgentOptions()
        self.boot_id = uuid.uuid4().hex  # identifies this run of the agent
        self.connected = threading.Event()
        self._devices = devices
        self._clock = clock
        self._app_ver = app_ver
        self._catalog_ver = catalog_ver
        self.clock_is_synced = clock_is_synced
        self._last_synced: bool | None = None
        self._control_ver: Callable[[], int | None] = lambda: None
        outbox = Outbox(
            config.kiosk.data_dir / "agent" / "outbox.db",
            clock=clock,
            max_bytes=self.options.outbox_max_bytes,
        )

        def sender(publish: Callable[[bytes], bool]) -> StatsSender:
            return StatsSender(
                outbox,
                publish,
                clock=monotonic,
                start_delay=self.options.drain_start_delay,
                resend_after_s=self.options.resend_after_s,
                min_interval_s=self.options.min_batch_interval_s,
            )

        self.telemetry = Telemetry(self.device_id, outbox, sender, clock)
        self.staff_calls = StaffCalls(self.device_id, self.publish, clock)
        self._outbox_depth = outbox_depth or outbox.depth
        self._downlinks: list[Downlink] = []
        self._rpc: list[RpcClient] = []
        self._ticks: list[Callable[[], None]] = []
        self.maintenance = threading.Event()
        self.restart_requested = threading.Event()
        self._epochs = EpochCounter(config.kiosk.data_dir / "agent" / "epoch")
        self._epoch = self._epochs.current()
        self._started = time.monotonic()
        self._client: mqtt.Client | None = None
        self._health_due = threading.Event()
        self._backlog = deque()
        self._backlog_lock = threading.Lock()
        self._last_health_at = float("-inf")
        self._last_devices: DeviceHealth | None = None
        self._offline_since: float | None = time.monotonic()
        self._unreachable_logged = False
        self._config_hash = hashlib.sha256(config.model_dump_json().encode()).hexdigest()[:16]

    @property
    def epoch(self) -> int:
        """Epoch of the current (or last) connection."""
        return self._epoch

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    # --- session --------------------------------------------------------------------------------

    def start(self) -> None:
        """Create the client and connect in the background (retrying until the broker answers)."""
        client = make_client(self.device_id, self.config.broker)
        client.on_pre_connect = self._on_pre_connect
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        client.on_message = self._on_message
        client.reconnect_delay_set(
            min_delay=cast(int, self.options.reconnect_min_s),
            max_delay=cast(int, self.options.reconnect_max_s),
        )
        client.max_queued_messages_set(self.options.max_queued)
        broker = self.config.broker
        client.connect_async(
            broker.host,
            broker.port,
            keepalive=broker.keepalive,
            clean_start=False,
            properties=connect_properties(SESSION_EXPIRY_S),
        )
        self._client = client
        client.loop_start()
        _logger.info("%s: connecting to %s:%d", self.device_id, broker.host, broker.port)

    def rpc_client(self, *, retry_s: float = 2.0, clock: Clock = time.time) -> RpcClient:
        """An RPC client on this agent's connection (a kiosk has one MQTT session: its client id is its CN).

        Its answers arrive on `down/rpc`, which the agent subscribes with `down/#`. Call after `start()`.
        """
        if self._client is None:
            raise RuntimeError("start() the agent before asking for its RPC client")
        rpc = RpcClient(self._client, self.device_id, retry_s=retry_s, clock=clock)
        self._rpc.append(rpc)
        return rpc

    def _on_pre_connect(self, client: mqtt.Client, _userdata: Any) -> None:
        try:
            self._epoch = self._epochs.next()
        except Exception as exc:
            _logger.error("%s: cannot persist the epoch, not connecting: %s", self.device_id, exc)
            raise OSError("epoch not persisted") from exc  # paho retries a failed connect later
        will = StateMessage(online=False, epoch=self._epoch, ts=self._now_ms(), reason="lwt")
        client.will_set(up(self.device_id, Up.STATE), will.to_bytes(), qos=1, retain=True)

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason_code: ReasonCode, _props: Any
    ) -> None:
        try:
            if reason_code.is_failure:
                _logger.error(
                    "%s: broker refused the connection: %s", self.device_id, reason_text(reason_code)
                )
                return
            fleet = (FLEET_KEYS, FLEET_CONTROL, FLEET_HOST_STATE, FLEET_CATALOG_MANIFEST)
            client.subscribe([(device_down_filter(self.device_id), 1), *((t, 1) for t in fleet)])
            self._birth(client)
            self._offline_since = None
            self._unreachable_logged = False
            self.connected.set()
            self._health_due.set()
            self.telemetry.on_connect(client)
            _logger.info("%s: online, epoch %d", self.device_id, self._epoch)
        except Exception:
            _logger.exception("%s: birth failed", self.device_id)

    def _birth(self, client: mqtt.Client) -> None:
        birth = StateMessage(
            online=True,
            epoch=self._epoch,
            ts=self._now_ms(),
            boot_id=self.boot_id,
            app_ver=self._app_ver,
            catalog_ver=self._catalog_ver(),
            branch=self.config.kiosk.branch[:64],
        )
        client.publish(up(self.device_id, Up.STATE), birth.to_bytes(), qos=1, retain=True)
        reported = ReportedMessage(
            catalog_ver=self._catalog_ver(),
            app_ver=self._app_ver,
            config_hash=self._config_hash,
            control_ver=self._control_ver(),
        )
        client.publish(up(self.device_id, Up.REPORTED), reported.to_bytes(), qos=1, retain=True)

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason_code: ReasonCode, _props: Any
    ) -> None:
        if self.connected.is_set():
            _logger.warning("%s: disconnected: %s", self.device_id, reason_text(reason_code))
        self.connected.clear()
        self.telemetry.on_disconnect()
        if self._offline_since is None:
            self._offline_since = time.monotonic()

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: Any) -> None:
        if not self._unreachable_logged:
            broker = self.config.broker
            _logger.warning(
                "%s: broker %s:%d unreachable; retrying", self.device_id, broker.host, broker.port
            )
            self._unreachable_logged = True

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            if any(rpc.handle(message) for rpc in self._rpc if message.topic == rpc.response_topic):
                return
            payload = bytes(message.payload)
            if self.telemetry.on_message(message.topic, payload):
                return
            for handler in self._downlinks:
                if handler(message.topic, payload):
                    return
            _logger.debug("%s: %s (%d bytes) not handled", self.device_id, message.topic, len(payload))
        except Exception:
            _logger.exception("%s: handling %s failed", self.device_id, message.topic)

    # --- health ---------------------------------------------------------------------------------

    def health(self, devices: DeviceHealth | None = None) -> HealthMessage:
        """A health message describing the kiosk now."""
        return build_health(
            ts=self._now_ms(),
            epoch=self._epoch,
            app_ver=self._app_ver,
            catalog_ver=self._catalog_ver(),
            uptime=time.monotonic() - self._started,
            system=read_system_metrics(self.config.kiosk.data_dir),
            devices=devices if devices is not None else self._devices.device_health(),
            outbox_depth=self._outbox_depth(),
            clock_synced=self.clock_is_synced(),
        ).model_copy(update={"maintenance": self.maintenance.is_set()})

    @property
    def app_ver(self) -> str:
        """The app version reported in birth, health and `up/reported`."""
        return self._app_ver

    def tick(self) -> None:
        """Send health if it is due or a component changed; rebuild the client after a long outage."""
        if self._client is None:
            return
        if (
            self._offline_since is not None
            and time.monotonic() - self._offline_since > self.options.recreate_after_s
        ):
            _logger.warning(
                "%s: offline for %.0f s, recreating the MQTT client",
                self.device_id,
                self.options.recreate_after_s,
            )
            self._discard_client()
            self._offline_since = time.monotonic()
            self.start()
            return
        self.flush_backlog()
        self.telemetry.tick()
        for hook in self._ticks:
            hook()
        if not self.connected.is_set():
            if time.monotonic() - self._last_health_at >= self.config.health.interval_s:
                snapshot = self.health()  # kept for diagnostics; health itself is latest-value
                self.telemetry.outbox.add_health(snapshot.to_bytes(), snapshot.ts)
                self._last_health_at = time.monotonic()
            return
        devices = self._devices.device_health()
        synced = self.clock_is_synced()
        interval = self.config.health.interval_s
        due = self._health_due.is_set() or time.monotonic() - self._last_health_at >= interval
        if due or devices != self._last_devices or synced != self._last_synced:
            self._health_due.clear()
            health = self.health(devices).model_copy(update={"clock_synced": synced})
            info = self._client.publish(up(self.device_id, Up.HEALTH), health.to_bytes(), qos=0)
            if info.rc == mqtt.MQTT_ERR_SUCCESS:
                self._last_health_at = time.monotonic()
                self._last_devices = devices
                self._last_synced = synced

    def run(self, stop: threading.Event, on_tick: Callable[[], None] | None = None) -> None:
        """Tick until `stop` is set (the caller then calls `stop()`); `on_tick` runs after each tick."""
        while not stop.wait(self.options.tick_s) and not self.restart_requested.is_set():
            try:
                self.tick()
            except Exception:
                _logger.exception("%s: health tick failed", self.device_id)
            if on_tick is not None:
                on_tick()

    # --- shutdown -------------------------------------------------------------------------------

    def stop(self) -> bool:
        """Publish the "shutdown" state, wait for its PUBACK (bounded) and disconnect.

        Returns:
            True if the broker acknowledged the shutdown state.
        """
        client = self._client
        if client is None:
            return False
        acked = False
        was_connected = self.connected.is_set()
        if was_connected:
            state = StateMessage(online=False, epoch=self._epoch, ts=self._now_ms(), reason="shutdown")
            info = client.publish(up(self.device_id, Up.STATE), state.to_bytes(), qos=1, retain=True)
            try:
                info.wait_for_publish(self.options.shutdown_timeout_s)
                acked = info.is_published()
            except (RuntimeError, ValueError) as exc:
                _logger.warning("%s: shutdown state not sent: %s", self.device_id, exc)
            if not acked:
                _logger.warning("%s: no PUBACK for the shutdown state; the will reports it", self.device_id)
        self.connected.clear()
        if was_connected:
            client.disconnect()
        client.loop_stop()
        self._client = None
        _logger.info("%s: stopped (shutdown acknowledged: %s)", self.device_id, acked)
        return acked

    def _discard_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.loop_stop()
            self.connected.clear()
