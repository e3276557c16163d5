"""The parts of `FleetAgent` other modules use: the app API and the hooks fleet services plug into.

App: `emit_statistic`, `emit_event`, `raise_alert`, `clear_alert`, `maintenance`. Fleet services
(catalog updates, commands, kill switch): `add_downlink`, `add_tick`, `publish`, `subscribe`,
`unsubscribe`, `rebirth`, `set_catalog_version_source`, `set_maintenance`, `clock`.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

import paho.mqtt.client as mqtt

from kiosk_app.agent.telemetry import Telemetry
from madoguchi.contracts.messages import Severity, StatsItem

__all__ = ["BACKLOG_MAX", "AgentHooks", "Clock", "Downlink"]

_logger = logging.getLogger(__name__)

BACKLOG_MAX = 200  # control messages (acks, diagnostics, births) held while paho's queue is full

Clock = Callable[[], float]
Downlink = Callable[[str, bytes], bool]  # handles one downlink message; False if not its topic


class AgentHooks:
    """Mixed into `FleetAgent`; the attributes below are set by its constructor."""

    telemetry: Telemetry
    connected: threading.Event
    maintenance: threading.Event
    _client: mqtt.Client | None
    _clock: Clock
    _catalog_ver: Callable[[], int | None]
    _control_ver: Callable[[], int | None]
    _downlinks: list[Downlink]
    _ticks: list[Callable[[], None]]
    _health_due: threading.Event
    _backlog: deque[tuple[str, bytes, int, bool]]
    _backlog_lock: threading.Lock

    def _birth(self, client: mqtt.Client) -> None:  # pragma: no cover - provided by FleetAgent
        raise NotImplementedError

    def set_catalog_version_source(self, version_fn: Callable[[], int | None]) -> None:
        """Where birth, health and `up/reported` read the installed catalog version from."""
        self._catalog_ver = version_fn

    def set_control_version_source(self, version_fn: Callable[[], int | None]) -> None:
        """Where `up/reported` reads the applied kill-switch (`fleet/control`) version from."""
        self._control_ver = version_fn

    @property
    def clock(self) -> Clock:
        """The agent's wall clock (seconds since the Unix epoch)."""
        return self._clock

    def add_tick(self, hook: Callable[[], None]) -> None:
        """Call `hook` on every tick (e.g. apply a catalog once the app is idle)."""
        self._ticks.append(hook)

    def set_maintenance(self, on: bool) -> None:
        """Enter or leave maintenance mode (reported in health at once)."""
        if on:
            self.maintenance.set()
        else:
            self.maintenance.clear()
        self._health_due.set()

    def request_health(self) -> None:
        """Send health at the next tick (e.g. after the `flush` command)."""
        self._health_due.set()

    def subscribe(self, topic: str) -> None:
        """Subscribe (QoS 1) through this agent's session."""
        if self._client is not None:
            self._client.subscribe(topic, qos=1)

    def unsubscribe(self, topic: str) -> None:
        """Drop a subscription."""
        if self._client is not None:
            self._client.unsubscribe(topic)

    def add_downlink(self, handler: Downlink) -> None:
        """Route downlink messages (desired catalog, commands, fleet documents) to `handler`."""
        self._downlinks.append(handler)

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> bool:
        """Publish through this agent's session; False when there is no client (not started).

        paho's queue is capped small (contract §4: statistics wait in the outbox, not in RAM), so a
        burst — several commands answered back to back, a diagnostics upload — can fill it. Such
        messages are then held in order in a bounded backlog and sent as PUBACKs free the queue
        (every tick), instead of being dropped.
        """
        client = self._client
        if client is None:
            return False
        with self._backlog_lock:
            if self._backlog:
                return self._hold(topic, payload, qos, retain)
            rc = client.publish(topic, payload, qos=qos, retain=retain).rc
            if rc == mqtt.MQTT_ERR_QUEUE_SIZE:
                return self._hold(topic, payload, qos, retain)
        return rc in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN)

    def _hold(self, topic: str, payload: bytes, qos: int, retain: bool) -> bool:
        if len(self._backlog) >= BACKLOG_MAX:
            _logger.warning("publish backlog full (%d); %s not sent", BACKLOG_MAX, topic)
            return False
        self._backlog.append((topic, payload, qos, retain))
        return True

    def flush_backlog(self) -> None:
        """Send held messages while paho's queue has room."""
        client = self._client
        if client is None:
            return
        with self._backlog_lock:
            while self._backlog:
                topic, payload, qos, retain = self._backlog[0]
                if client.publish(topic, payload, qos=qos, retain=retain).rc == mqtt.MQTT_ERR_QUEUE_SIZE:
                    return
                self._backlog.popleft()

    def rebirth(self) -> None:
        """Publish birth and `up/reported` again (command `rebirth`, or after a catalog change)."""
        client = self._client
        if client is not None and self.connected.is_set():
            self._birth(client)

    # --- app API (statistics, events, alerts) ---------------------------------------------------

    def emit_statistic(self, kind: str, **fields: object) -> StatsItem:
        """Journal one anonymous usage record; see `Telemetry.emit_statistic`."""
        return self.telemetry.emit_statistic(kind, **fields)

    def emit_event(self, code: str, severity: Severity = Severity.INFO, detail: str = "") -> None:
        """Send an `up/event` (queued in the outbox while offline)."""
        self.telemetry.emit_event(code, severity, detail)

    def raise_alert(self, alert_id: str, code: str, severity: Severity, detail: str = "") -> None:
        """Raise an alert (retained `up/alert/{id}`)."""
        self.telemetry.raise_alert(alert_id, code, severity, detail)

    def clear_alert(self, alert_id: str) -> None:
        """Clear an alert."""
        self.telemetry.clear_alert(alert_id)
