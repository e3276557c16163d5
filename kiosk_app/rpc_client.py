"""Kiosk side of the MQTT 5 RPC (contract §2): request on `up/rpc`, answer on `down/rpc`.

A call gets a fresh UUIDv4 `req_id` (also the CorrelationData) and a deadline; it is re-sent with the
same `req_id` until an answer arrives or the deadline passes, backing off exponentially with jitter:
the first re-send after about `retry_s`, then twice as long each time up to `retry_max_s`, each wait
shortened by a random part of up to `jitter` so that kiosks that started together do not re-send
together. The service dedupes on (device, req_id, session, method, params hash) — a re-send while the
first is running or queued does no work, one after it finished gets the same answer — and runs
`certificate.issue` again rather than replaying it, so a printed or voided document is never sent
twice. Answers whose CorrelationData or `req_id` match no waiting call — unknown, late, or swapped —
are dropped. RPC never goes through the statistics outbox.

`RpcClient` works on a paho client someone else owns (feed it `handle(msg)` for `down/rpc`), or
`RpcClient.connect()` makes and owns one.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Self

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from madoguchi.config.broker import BrokerConfig
from madoguchi.contracts.base import ContractError
from madoguchi.contracts.rpc import RpcErrorCode, RpcRequest, RpcResponse
from madoguchi.contracts.topics import Down, Up, down, up
from madoguchi.errors import UserError
from madoguchi.mqtt_client import make_client, reason_text

__all__ = ["RpcCallError", "RpcClient", "RpcTimeout", "retry_delays"]

_logger = logging.getLogger(__name__)


class RpcCallError(Exception):
    """The service answered `ok: false`."""

    def __init__(self, code: RpcErrorCode, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message
        self.data = data  # method-specific detail (e.g. `QueueRefusal` for code `refused`)


class RpcTimeout(Exception):
    """No answer before the deadline; the whole step must be treated as failed."""


Waiter = Callable[[threading.Event, float], bool]


def _wait(event: threading.Event, timeout_s: float) -> bool:
    return event.wait(timeout_s)


def retry_delays(retry_s: float, retry_max_s: float, jitter: float, rng: random.Random) -> Iterator[float]:
    """Waits before each re-send: `retry_s` doubling up to `retry_max_s`, each cut by up to `jitter` of itself."""
    nominal = retry_s
    while True:
        yield nominal * (1.0 - jitter * rng.random())
        nominal = min(retry_max_s, nominal * 2)


@dataclass
class _Pending:
    done: threading.Event = field(default_factory=threading.Event)
    response: RpcResponse | None = None


class RpcClient:
    """Calls RPC methods for one device over a paho client.

    Args:
        client: the paho client (owned by the caller unless made by `connect`).
        device_id: this device.
        retry_s: wait before the first re-send.
        retry_max_s: longest wait between two re-sends.
        jitter: each wait is shortened by a random fraction of it, up to this (0 ≤ jitter < 1).
        clock: seconds since the Unix epoch (deadlines).
        wait: waits for an answer up to a timeout, True when it came (tests pass a fake).
        rng: source of the jitter.
    """

    def __init__(
        self,
        client: mqtt.Client,
        device_id: str,
        *,
        retry_s: float = 2.0,
        retry_max_s: float = 8.0,
        jitter: float = 0.25,
        clock: Callable[[], float] = time.time,
        wait: Waiter = _wait,
        rng: random.Random | None = None,
    ) -> None:
        if not 0 < retry_s <= retry_max_s or not 0 <= jitter < 1:
            raise ValueError(
                f"RPC retry: need 0 < retry_s ({retry_s}) <= retry_max_s ({retry_max_s}) "
                f"and 0 <= jitter ({jitter}) < 1"
            )
        self.client = client
        self.device_id = device_id
        self.retry_s = retry_s
        self.retry_max_s = retry_max_s
        self.jitter = jitter
        self.clock = clock
        self._wait = wait
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self.request_topic = up(device_id, Up.RPC)
        self.response_topic = down(device_id, Down.RPC)
        self._lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}
        self._owned = False
        self.dropped = 0
        self.resent = 0  # re-sends of unanswered requests since start

    @classmethod
    def connect(cls, device_id: str, broker: BrokerConfig, timeout: float = 10.0, **kwargs: Any) -> Self:
        """Make a client for `device_id`, connect, subscribe to `down/rpc` and wait for the SUBACK."""
        client = make_client(device_id, broker)
        rpc = cls(client, device_id, **kwargs)
        rpc._owned = True
        ready = threading.Event()

        def on_connect(c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
            if getattr(reason, "is_failure", False):
                _logger.error("%s: connection refused: %s", device_id, reason_text(reason))
                return
            c.subscribe(rpc.response_topic, qos=1)

        client.on_connect = on_connect
        client.on_subscribe = lambda *_a: ready.set()

        def on_message(_c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
            rpc.handle(msg)

        client.on_message = on_message
        client.connect_async(broker.host, broker.port, keepalive=broker.keepalive, clean_start=True)
        client.loop_start()
        if not ready.wait(timeout):
            rpc.close()
            raise UserError(
                f"cannot reach the MQTT broker {broker.host}:{broker.port}",
                "check [broker] url and the network",
            )
        return rpc

    def close(self) -> None:
        """Disconnect a client this object made (a borrowed client is left alone)."""
        if self._owned:
            self.client.disconnect()
            self.client.loop_stop()

    def handle(self, msg: mqtt.MQTTMessage) -> bool:
        """Take one `down/rpc` message; True when it answered a waiting call (else it is dropped)."""
        if msg.topic != self.response_topic:
            return False
        correlation = getattr(msg.properties, "CorrelationData", None)
        try:
            response = RpcResponse.from_bytes(bytes(msg.payload))
        except ContractError:
            return self._drop("malformed answer")
        if not isinstance(correlation, bytes) or correlation != response.req_id.encode():
            return self._drop("CorrelationData does not match the answer's req_id")
        with self._lock:
            pending = self._pending.get(response.req_id)
            if pending is None or pending.done.is_set():
                return self._drop("no call is waiting for it (unknown or late)")
            pending.response = response
            pending.done.set()
        return True

    def _drop(self, why: str) -> bool:
        self.dropped += 1
        _logger.info("%s: RPC answer dropped: %s", self.device_id, why)
        return False

    def call(
        self, method: str, params: dict[str, Any], timeout_s: float = 10.0, req_id: str | None = None
    ) -> dict[str, Any]:
        """Call `method`; return its result. `req_id` repeats an earlier request (the service applies it once).

        Raises:
            RpcCallError: the service refused (code and message).
            RpcTimeout: no answer before the deadline.
        """
        deadline = self.clock() + timeout_s
        request = RpcRequest.new(method, params, int(deadline * 1000), req_id)
        pending = _Pending()
        with self._lock:
            self._pending[request.req_id] = pending
        payload = request.to_bytes()
        delays = retry_delays(self.retry_s, self.retry_max_s, self.jitter, self._rng)
        try:
            first = True
            while True:
                left = deadline - self.clock()
                if left <= 0:
                    raise RpcTimeout(f"{method}: no answer within {timeout_s:g} s")
                if not first:
                    with self._lock:
                        self.resent += 1
                    _logger.info("%s: %s not answered yet; sending again", self.device_id, method)
                self._send(request.req_id, payload, left)
                first = False
                if self._wait(pending.done, min(next(delays), left)):
                    break
        finally:
            with self._lock:
                del self._pending[request.req_id]
        response = pending.response
        assert response is not None
        if not response.ok:
            assert response.error is not None
            raise RpcCallError(response.error.code, response.error.message, response.error.data)
        return response.result or {}

    def _send(self, req_id: str, payload: bytes, left_s: float) -> None:
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.ResponseTopic = self.response_topic
        props.CorrelationData = req_id.encode()
        props.MessageExpiryInterval = max(1, int(left_s + 0.999))
        self.client.publish(self.request_topic, payload, qos=1, properties=props)
