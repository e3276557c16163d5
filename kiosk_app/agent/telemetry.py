"""What the kiosk reports besides presence: statistics (outbox), events and alerts.

`Telemetry` owns the outbox and its sender and keeps the kiosk's active alerts. The app calls
`emit_statistic(kind, **fields)`, `emit_event(...)`, `raise_alert(...)` and `clear_alert(...)`
(through `FleetAgent`); the agent feeds it connection changes, `down/ack`, `fleet/host/state`
and its tick. Alerts are retained `up/alert/{id}` messages: re-published after every connect,
cleared with an empty retained payload. The outbox raises `outbox-full` at 80 % of its cap.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

from kiosk_app.agent.outbox import Outbox
from kiosk_app.agent.sender import StatsSender
from madoguchi.contracts.base import ContractError
from madoguchi.contracts.messages import AlertMessage, DownAck, EventMessage, HostState, Severity, StatsItem
from madoguchi.contracts.topics import FLEET_HOST_STATE, Down, Up, down, up

__all__ = ["OUTBOX_ALERT", "OUTBOX_ALERT_FRACTION", "Telemetry"]

_logger = logging.getLogger(__name__)

OUTBOX_ALERT = "outbox-full"
OUTBOX_ALERT_FRACTION = 0.8


class Telemetry:
    """Statistics, events and alerts of one kiosk.

    Args:
        device_id: this kiosk.
        outbox: the durable statistics queue.
        sender_factory: builds the `StatsSender` given the publish function.
        clock: seconds since the Unix epoch (message timestamps).
    """

    def __init__(
        self,
        device_id: str,
        outbox: Outbox,
        sender_factory: Callable[[Callable[[bytes], bool]], StatsSender],
        clock: Callable[[], float],
    ) -> None:
        self.device_id = device_id
        self.outbox = outbox
        self.sender = sender_factory(self._publish_stats)
        self._clock = clock
        self._client: mqtt.Client | None = None
        self._connected = False
        self._lock = threading.Lock()
        self._alerts: dict[str, AlertMessage] = {}
        self._ack_topic = down(device_id, Down.ACK)

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    # --- app API --------------------------------------------------------------------------------

    def emit_statistic(self, kind: str, **fields: Any) -> StatsItem:
        """Journal one usage record durably (it reaches the centre exactly once).

        Raises:
            ContractError: the record is not valid, e.g. it carries a personal-data field.
        """
        try:
            item = self.outbox.append(kind, fields)
        except ValueError as exc:
            raise ContractError(f"statistic {kind!r} refused: {exc}") from exc
        self.sender.pump()
        return item

    def emit_event(self, code: str, severity: Severity = Severity.INFO, detail: str = "") -> None:
        """Queue an `up/event` (kept in the outbox until handed to the broker)."""
        self.outbox.add_event(EventMessage(ts=self._now_ms(), code=code, severity=severity, detail=detail))
        self.flush_events()

    def raise_alert(self, alert_id: str, code: str, severity: Severity, detail: str = "") -> None:
        """Raise (or update) an alert; it stays on the broker (retained) until cleared."""
        with self._lock:
            previous = self._alerts.get(alert_id)
            if previous is not None and (previous.code, previous.severity, previous.detail) == (
                code, severity, detail
            ):  # fmt: skip
                return
            since = previous.since if previous is not None else self._now_ms()
            message = AlertMessage(
                ts=self._now_ms(), code=code, severity=severity, detail=detail, since=since
            )
            self._alerts[alert_id] = message
        _logger.warning("%s: alert %s raised: %s %s", self.device_id, alert_id, code, detail)
        self._publish(up(self.device_id, Up.ALERT, alert_id), message.to_bytes(), retain=True)

    def clear_alert(self, alert_id: str, *, even_if_unknown: bool = False) -> None:
        """Clear an alert (empty retained payload).

        Args:
            alert_id: the alert.
            even_if_unknown: clear it also when this process did not raise it: the broker may still hold
                the retained alert of an earlier run (the centre ignores a clear of nothing).
        """
        with self._lock:
            if self._alerts.pop(alert_id, None) is None and not even_if_unknown:
                return
        _logger.info("%s: alert %s cleared", self.device_id, alert_id)
        self._publish(up(self.device_id, Up.ALERT, alert_id), b"", retain=True)

    def active_alerts(self) -> dict[str, AlertMessage]:
        """Alerts raised and not cleared, by id."""
        with self._lock:
            return dict(self._alerts)

    # --- agent hooks ----------------------------------------------------------------------------

    def on_connect(self, client: mqtt.Client) -> None:
        """Connected (after the birth): re-publish alerts, flush events, restart draining."""
        self._client, self._connected = client, True
        for alert_id, message in self.active_alerts().items():
            client.publish(up(self.device_id, Up.ALERT, alert_id), message.to_bytes(), qos=1, retain=True)
        self.sender.on_connect()
        self.flush_events()

    def on_disconnect(self) -> None:
        """Connection lost."""
        self._connected = False
        self.sender.on_disconnect()

    def on_message(self, topic: str, payload: bytes) -> bool:
        """Handle `down/ack` and `fleet/host/state`; False for other topics."""
        if topic == self._ack_topic:
            try:
                ack = DownAck.from_bytes(payload)
            except ContractError as exc:
                _logger.warning("%s: bad down/ack ignored: %s", self.device_id, exc)
                return True
            self.sender.on_ack(ack.through_seq)
            return True
        if topic == FLEET_HOST_STATE:
            online = False
            if payload:
                try:
                    online = HostState.from_bytes(payload).online
                except ContractError as exc:
                    _logger.warning("%s: bad host state ignored: %s", self.device_id, exc)
            self.sender.on_host_state(online)
            return True
        return False

    def tick(self) -> None:
        """Resend overdue batches, flush events, watch the outbox cap."""
        self.sender.pump()
        self.flush_events()
        fill = self.outbox.fill()
        if fill.fraction >= OUTBOX_ALERT_FRACTION:
            self.raise_alert(
                OUTBOX_ALERT,
                "outbox_full",
                Severity.ERROR if fill.fraction >= 1.0 else Severity.WARNING,
                f"outbox {fill.fraction:.0%} of {fill.max_bytes // 1_048_576} MB; {fill.stats_rows} usage "
                f"records waiting; shed {fill.shed_health} health, {fill.shed_events} events",
            )
        elif OUTBOX_ALERT in self._alerts:
            self.clear_alert(OUTBOX_ALERT)

    def send_now(self) -> None:
        """Hand queued events to the broker and start draining the statistics outbox now (no start delay)."""
        self.flush_events()
        self.sender.drain_now()

    def flush_events(self) -> None:
        """Hand queued events to the broker while connected."""
        client = self._client
        if client is None or not self._connected:
            return
        topic = up(self.device_id, Up.EVENT)
        for pending in self.outbox.pending_events():
            info = client.publish(topic, pending.message.to_bytes(), qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                return
            self.outbox.remove_event(pending.row_id)

    # --- publishing -----------------------------------------------------------------------------

    def _publish(self, topic: str, payload: bytes, *, retain: bool = False) -> bool:
        client = self._client
        if client is None:
            return False
        info = client.publish(topic, payload, qos=1, retain=retain)
        return info.rc in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN)  # rc 4 on QoS 1 = queued

    def _publish_stats(self, payload: bytes) -> bool:
        client = self._client
        if client is None or not self._connected:
            return False
        return client.publish(up(self.device_id, Up.STATS), payload, qos=1).rc == mqtt.MQTT_ERR_SUCCESS
