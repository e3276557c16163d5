"""Central ingest: reads every kiosk's `up/...` messages from a shared subscription into the store.

Subscribes `$share/ingest/kiosk/v1/d/+/up/#` (Mosquitto ≥ 2.0 supports shared subscriptions, so
several ingest processes can split the load). State and health are handled now; the other
sub-topics (statistics, events, alerts, acks) arrive with the fleet issue. A payload that does
not follow the contract is logged with its topic and the reason (never its contents) and dropped.
QoS 1 messages are acknowledged only after the store has committed them (contract §4.12).

The ingest announces itself on `kiosk/v1/fleet/host/state` (retained): a birth `{online: true}`
on every connect and a will `{online: false}`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from central_broker.ingest_dispatch import Handled, describe_problem, dispatch, parse_payload
from central_broker.store import FleetStore
from madoguchi.config.broker import BrokerConfig
from madoguchi.contracts.base import ContractError
from madoguchi.contracts.messages import DownAck, HostState, StatsBatch
from madoguchi.contracts.topics import FLEET_HOST_STATE, Down, Up, down, parse_topic, shared_up_filter
from madoguchi.mqtt_client import make_client, reason_text

__all__ = ["INGEST_GROUP", "Ingest", "describe_problem"]  # describe_problem: re-exported

_logger = logging.getLogger(__name__)

INGEST_GROUP = "ingest"
GROUP_MAX = 500  # statistics batches per transaction
_Pending = tuple[str, StatsBatch, int, int]  # device id, batch, mid, qos


class Ingest:
    """The ingest service: connect, subscribe, write the store; `stop()` marks the host offline.

    Args:
        store: where presence and health go.
        broker: how to reach the broker as svc-ingest (`CentralConfig.broker_for("ingest")`).
        group: shared-subscription group name.
        clock: seconds since the Unix epoch.
    """

    def __init__(
        self,
        store: FleetStore,
        broker: BrokerConfig,
        *,
        group: str = INGEST_GROUP,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.broker = broker
        self.group = group
        self.client_id = f"svc-ingest-{uuid.uuid4().hex[:12]}"
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self._clock = clock
        self._client: mqtt.Client | None = None
        self._subscribe_mid: int | None = None
        self._stats: queue.Queue[_Pending | None] = queue.Queue()
        self._writer: threading.Thread | None = None
        self.stats_batches = 0  # batches this worker committed (metrics, tests)

    def _host_state(self, online: bool) -> bytes:
        return HostState(online=online, ts=int(self._clock() * 1000)).to_bytes()

    def start(self) -> None:
        """Connect in the background; reconnects by itself."""
        client = make_client(self.client_id, self.broker, manual_ack=True)
        client.on_pre_connect = self._on_pre_connect
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        # Shared-subscription members use a session that ends with the connection (contract §8).
        client.connect_async(
            self.broker.host, self.broker.port, keepalive=self.broker.keepalive, clean_start=True
        )
        self._client = client
        self._writer = threading.Thread(
            target=self._write_stats, name=f"{self.client_id}-writer", daemon=True
        )
        self._writer.start()
        client.loop_start()
        _logger.info("ingest %s connecting to %s:%d", self.client_id, self.broker.host, self.broker.port)

    def _on_pre_connect(self, client: mqtt.Client, _userdata: Any) -> None:
        client.will_set(FLEET_HOST_STATE, self._host_state(False), qos=1, retain=True)

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason_code: ReasonCode, _props: Any
    ) -> None:
        try:
            if reason_code.is_failure:
                _logger.error("ingest: broker refused the connection: %s", reason_text(reason_code))
                return
            _, self._subscribe_mid = client.subscribe(shared_up_filter(self.group), qos=1)
            client.publish(FLEET_HOST_STATE, self._host_state(True), qos=1, retain=True)
            self.connected.set()
            _logger.info("ingest connected; subscribed %s", shared_up_filter(self.group))
        except Exception:
            _logger.exception("ingest: start-up on connect failed")

    def _on_subscribe(
        self, _client: mqtt.Client, _userdata: Any, mid: int, reason_codes: list[ReasonCode], _props: Any
    ) -> None:
        if mid != self._subscribe_mid:
            return
        if any(code.is_failure for code in reason_codes):
            _logger.error("ingest: subscription refused: %s", ", ".join(reason_text(c) for c in reason_codes))
            return
        self.subscribed.set()

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason_code: ReasonCode, _props: Any
    ) -> None:
        if self.connected.is_set():
            _logger.warning("ingest disconnected: %s", reason_text(reason_code))
        self.connected.clear()
        self.subscribed.clear()

    def _on_message(self, client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            if self._queue_stats(message):
                return
            handled = self.handle(message.topic, message.payload)
        except Exception:
            # The store failed: leave the message unacknowledged so the broker redelivers it.
            _logger.exception("ingest: could not store %s; not acknowledged", message.topic)
            return
        try:
            if handled is not None and handled.down_ack is not None:
                device_id = parse_topic(message.topic).device_id
                client.publish(down(device_id, Down.ACK), handled.down_ack.to_bytes(), qos=1)
            client.ack(message.mid, message.qos)
        except Exception:
            _logger.exception("ingest: ack of %s failed", message.topic)

    def _queue_stats(self, message: mqtt.MQTTMessage) -> bool:
        """Hand a valid `up/stats` batch to the writer thread; False for anything else."""
        if "/up/stats" not in message.topic:
            return False
        try:
            parsed = parse_topic(message.topic)
        except ContractError:
            return False
        if parsed.name is not Up.STATS or not message.payload:
            return False
        batch = parse_payload(parsed, StatsBatch, bytes(message.payload))
        if not isinstance(batch, StatsBatch):
            client = self._client
            if client is not None:
                client.ack(message.mid, message.qos)  # dropped (logged by parse_payload); never retried
            return True
        self._stats.put((parsed.device_id, batch, message.mid, message.qos))
        return True

    def _write_stats(self) -> None:
        """Writer thread: commit waiting batches together, then send their down/acks and PUBACKs."""
        while True:
            first = self._stats.get()
            if first is None:
                return
            group = [first]
            while len(group) < GROUP_MAX:
                try:
                    item = self._stats.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._stats.put(None)
                    break
                group.append(item)
            try:
                outcomes = self.store.record_stats_many([(dev, batch) for dev, batch, _m, _q in group])
            except Exception:
                _logger.exception("ingest: could not store %d stats batches; not acknowledged", len(group))
                continue
            self.stats_batches += len(group)
            client = self._client
            if client is None:
                continue
            for (dev, _batch, mid, qos), outcome in zip(group, outcomes, strict=True):
                try:
                    client.publish(
                        down(dev, Down.ACK), DownAck(through_seq=outcome.through_seq).to_bytes(), qos=1
                    )
                    client.ack(mid, qos)
                except Exception:
                    _logger.exception("ingest: ack of stats from %s failed", dev)

    def handle(self, topic: str, payload: bytes | bytearray) -> Handled | None:
        """Parse one message and write it to the store.

        Returns:
            What the store did (and the `down/ack` to send), or None when the message was dropped.

        Raises:
            Exception: only store failures (the message must then be delivered again).
        """
        try:
            parsed = parse_topic(topic)
        except ContractError as exc:
            _logger.warning("ingest: dropped message on %s: %s", topic, exc)
            return None
        return dispatch(self.store, parsed, bytes(payload))

    def stop(self, timeout: float = 5.0) -> None:
        """Mark the host offline (retained), disconnect and stop the network thread."""
        writer, self._writer = self._writer, None
        if writer is not None:
            self._stats.put(None)
            writer.join(timeout)
        client, self._client = self._client, None
        if client is None:
            return
        if self.connected.is_set():
            info = client.publish(FLEET_HOST_STATE, self._host_state(False), qos=1, retain=True)
            try:
                info.wait_for_publish(timeout)
            except (RuntimeError, ValueError) as exc:
                _logger.warning("ingest: host offline state not sent: %s", exc)
        self.connected.clear()
        client.disconnect()
        client.loop_stop()
        _logger.info("ingest stopped")
