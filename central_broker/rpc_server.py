"""Generic MQTT 5 RPC server (contract §2 RPC), role `svc-rpc`: certificate issuance, payment-order lookup
and queue numbers.

Rules enforced here, once, for every method:
- subscribe the shared filter `$share/<group>/kiosk/v1/d/+/up/rpc`; the device is the one in the topic
  (the broker's ACL guarantees a device only writes its own `up/`);
- drop a request whose ResponseTopic is not the requester's own `down/rpc`, or whose
  CorrelationData is not its `req_id`;
- do no work after the request's `deadline`, checked when it arrives and again when a handler thread
  takes it (under load a request can wait in the queue past its deadline: its kiosk has given up, so
  running it would only delay the requests still waited for);
- dedupe side effects on (device, req_id, session, method, params hash): a retry while the first is
  queued or running is ignored, a retry after it finished gets the same response again (kept until its
  deadline). A req_id reused for another session, method or parameters is a new request, never
  answered from another request's cache;
- never replay the cached answer of a method marked `answered_afresh` (a document: once confirmed
  printed or voided it must not be sent again); a retry runs its idempotent handler again;
- reply on `down/rpc` with the same CorrelationData.
Handlers run on a thread pool, never on the MQTT network thread.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from pydantic import BaseModel, ValidationError

from madoguchi.config.broker import BrokerConfig
from madoguchi.contracts.base import ContractError
from madoguchi.contracts.rpc import RpcError, RpcErrorCode, RpcRequest, RpcResponse
from madoguchi.contracts.topics import Down, Up, down, parse_topic, shared_up_filter
from madoguchi.mqtt_client import make_client, reason_text

__all__ = ["RpcCall", "RpcFailure", "RpcHandler", "RpcServer", "answered_afresh"]

_logger = logging.getLogger(__name__)

_MAX_REMEMBERED = 10_000
_GRACE_MS = 1_000
_AFRESH = "_madoguchi_answered_afresh"

CallKey = tuple[str, str, str, str, str]  # device, req_id, session, method, params hash


@dataclass(frozen=True)
class RpcCall:
    """One request as a handler sees it."""

    device_id: str
    req_id: str
    method: str
    params: dict[str, Any]
    deadline_ms: int


class RpcFailure(Exception):
    """Raised by a handler to answer `ok: false` with a contract error code (and, optionally, `data`)."""

    def __init__(self, code: RpcErrorCode, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


RpcHandler = Callable[[RpcCall], BaseModel | dict[str, Any]]
Subscriber = Callable[[mqtt.MQTTMessage], None]


def answered_afresh(handler: RpcHandler) -> RpcHandler:
    """Mark `handler` so that its answer is never replayed from the cache: a retry runs it again.

    For answers that carry something that must not be handed out twice once its state moved on
    (a certificate PDF after `printed` or `void`); the handler must be idempotent.
    """
    setattr(handler, _AFRESH, True)
    return handler


def call_key(device_id: str, request: RpcRequest) -> CallKey:
    """What makes two requests the same: device, req_id, session, method and a hash of the parameters."""
    session = request.params.get("session_id")
    canonical = json.dumps(request.params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return (device_id, request.req_id, session if isinstance(session, str) else "", request.method, digest)


class RpcServer:
    """Serve `handlers` (method name → handler) over MQTT.

    Args:
        broker: how to reach the broker.
        handlers: method → handler; a handler returns a pydantic model or dict, or raises `RpcFailure`.
        client_id: MQTT client id (unique per worker process).
        group: shared-subscription group.
        workers: handler threads.
        extra: other topic filters to subscribe (e.g. the retained kill switch) with their callbacks.
        clock: seconds since the Unix epoch.
    """

    def __init__(
        self,
        broker: BrokerConfig,
        handlers: Mapping[str, RpcHandler],
        *,
        client_id: str | None = None,
        group: str = "rpc",
        workers: int = 8,
        extra: Mapping[str, Subscriber] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.broker = broker
        self.handlers = dict(handlers)
        self.client_id = client_id or f"svc-rpc-{uuid.uuid4().hex[:8]}"
        self.filter = shared_up_filter(group, Up.RPC)
        self.extra = dict(extra or {})
        self.clock = clock
        self.ready = threading.Event()
        self.workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rpc")
        self._lock = threading.Lock()
        self._running: set[CallKey] = set()
        self._done: OrderedDict[CallKey, tuple[int, bytes, str]] = OrderedDict()
        self._client: mqtt.Client | None = None
        self.dropped = 0
        self.expired_in_queue = 0  # requests whose deadline passed before a handler thread was free

    # --- lifecycle -----------------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> None:
        """Connect, subscribe and wait until the subscriptions are acknowledged."""
        client = make_client(self.client_id, self.broker)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.connect_async(
            self.broker.host, self.broker.port, keepalive=self.broker.keepalive, clean_start=True
        )
        self._client = client
        client.loop_start()
        if not self.ready.wait(timeout):
            self.stop()
            raise TimeoutError(
                f"RPC server: no connection to {self.broker.host}:{self.broker.port} in {timeout} s"
            )

    def stop(self) -> None:
        """Disconnect and finish running handlers."""
        client, self._client = self._client, None
        if client is not None:
            client.disconnect()
            client.loop_stop()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if getattr(reason, "is_failure", False):
            _logger.error("RPC server: connection refused: %s", reason_text(reason))
            return
        client.subscribe([(self.filter, 1), *((topic, 1) for topic in self.extra)])

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, codes: Any, _p: Any) -> None:
        failed = [c for c in codes if getattr(c, "is_failure", False)]
        if failed:
            _logger.error("RPC server: subscription refused: %s", ", ".join(reason_text(c) for c in failed))
            return
        self.ready.set()

    # --- requests ------------------------------------------------------------------------------------

    def _drop(self, source: str, why: str) -> None:
        self.dropped += 1
        _logger.warning("RPC request from %s dropped: %s", source, why)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.topic in self.extra or not msg.topic.endswith("/up/rpc"):
            callback = self.extra.get(msg.topic)
            if callback is not None:
                callback(msg)
            return
        try:
            device_id = parse_topic(msg.topic).device_id
        except ContractError:
            self._drop(msg.topic, "not a device topic")
            return
        props = msg.properties
        response_topic = getattr(props, "ResponseTopic", None)
        correlation = getattr(props, "CorrelationData", None)
        if response_topic != down(device_id, Down.RPC):
            self._drop(device_id, "ResponseTopic is not its own down/rpc")
            return
        try:
            request = RpcRequest.from_bytes(bytes(msg.payload))
        except ContractError as exc:
            self._drop(device_id, f"malformed request ({exc})")
            return
        if correlation != request.req_id.encode():
            self._drop(device_id, "CorrelationData does not match req_id")
            return
        now_ms = int(self.clock() * 1000)
        if now_ms > request.deadline:
            self._drop(device_id, f"{request.method} past its deadline")
            return
        key = call_key(device_id, request)
        with self._lock:
            if key in self._running:
                return  # a retry while the first attempt runs: its answer will come
            done = self._done.get(key)
            if done is None:
                self._running.add(key)
        if done is not None:
            self._publish(done[2], correlation, done[1])  # a retry after the answer was lost
            return
        self._pool.submit(self._handle, device_id, request, response_topic, correlation)

    def _handle(self, device_id: str, request: RpcRequest, topic: str, correlation: bytes) -> None:
        key = call_key(device_id, request)
        call = RpcCall(device_id, request.req_id, request.method, request.params, request.deadline)
        if int(self.clock() * 1000) > request.deadline:
            with self._lock:
                self._running.discard(key)
                self.expired_in_queue += 1
            _logger.warning(
                "%s %s: deadline passed while queued (all %d handler threads busy); not run",
                device_id,
                request.method,
                self.workers,
            )
            return
        try:
            response = self._run(call)
            payload = response.to_bytes()
            if not getattr(self.handlers.get(call.method), _AFRESH, False):
                with self._lock:
                    self._done[key] = (request.deadline + _GRACE_MS, payload, topic)
                    self._forget_old()
        finally:
            with self._lock:
                self._running.discard(key)
        if int(self.clock() * 1000) > request.deadline:
            _logger.info(
                "%s %s: finished after its deadline; the kiosk drops the answer", device_id, request.method
            )
        self._publish(topic, correlation, payload)

    def _run(self, call: RpcCall) -> RpcResponse:
        handler = self.handlers.get(call.method)
        if handler is None:
            return _failure(call, RpcErrorCode.NOT_FOUND, f"unknown method {call.method!r}")
        try:
            result = handler(call)
        except RpcFailure as exc:
            return _failure(call, exc.code, exc.message, exc.data)
        except ValidationError as exc:
            return _failure(call, RpcErrorCode.INVALID_ARGUMENT, _short(exc))
        except Exception:
            _logger.exception("%s: handler for %s failed", call.device_id, call.method)
            return _failure(call, RpcErrorCode.INTERNAL, "internal error; try again or call staff")
        data = result.model_dump(mode="json", exclude_none=True) if isinstance(result, BaseModel) else result
        return RpcResponse(req_id=call.req_id, ok=True, result=data)

    def _forget_old(self) -> None:
        now_ms = int(self.clock() * 1000)
        while self._done:
            key, (expires, _, _) = next(iter(self._done.items()))
            if expires >= now_ms and len(self._done) <= _MAX_REMEMBERED:
                break
            del self._done[key]

    def _publish(self, topic: str, correlation: bytes, payload: bytes) -> None:
        client = self._client
        if client is None:
            return
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.CorrelationData = correlation
        client.publish(topic, payload, qos=1, properties=props)


def _failure(
    call: RpcCall, code: RpcErrorCode, message: str, data: dict[str, Any] | None = None
) -> RpcResponse:
    error = RpcError(code=code, message=message[:500], data=data)
    return RpcResponse(req_id=call.req_id, ok=False, error=error)


def _short(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"invalid parameters: {where}: {first.get('msg', '')}"
