"""Denial-of-service limits for the enrolment endpoint: header and body deadlines, body size, connections.

Two layers, both needed because uvicorn has no header or body timeout and FastAPI reads a body in full:

* `guarded_protocol` — the h11 protocol per TLS connection. Closes a connection whose request headers are not
  complete within `header_timeout_s` (slowloris), refuses connections beyond `max_connections` with 503, and
  exposes the client certificate as the ASGI TLS extension.
* `RequestLimits` — ASGI middleware around the app. Refuses chunked bodies (411) and a Content-Length above
  `max_body_bytes` (413) before reading a byte, reads the body under `body_timeout_s` (408), and answers 503 with
  Retry-After when `max_requests` requests are already in progress. Every refusal closes the connection, so the
  unread rest of a body is never received.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from madoguchi.enrolment import Refusal, RefusalCode

if TYPE_CHECKING:
    from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["CLOSE_GRACE_S", "RequestLimits", "ServeLimits", "guarded_protocol"]

_logger = logging.getLogger(__name__)

# A TLS close waits for the peer's close_notify (asyncio: up to 30 s); a client that never reads would keep its
# connection (and file descriptor) that long. After this grace for reading our last answer, the socket is aborted.
CLOSE_GRACE_S = 2.0

_Scope = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
_App = Callable[[_Scope, _Receive, _Send], Awaitable[None]]


@dataclass(frozen=True, kw_only=True)
class ServeLimits:
    """Limits of `kiosk-central enrol-serve` (CLI flags of the same names); defaults suit a city's fleet."""

    header_timeout_s: float = 10.0  # from connection (or the previous answer) to complete request headers
    body_timeout_s: float = 10.0  # from complete headers to the complete body
    max_body_bytes: int = 64 * 1024  # an enrolment request with its CSR is 2-4 KB
    max_connections: int = 512  # open TLS connections (stay below the process's open-file limit)
    max_requests: int = 32  # requests in progress at once; more get 503 + Retry-After
    retry_after_s: int = 5  # Retry-After on every 503

    def __post_init__(self) -> None:
        for name in (
            "header_timeout_s",
            "body_timeout_s",
            "max_body_bytes",
            "max_connections",
            "max_requests",
        ):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")


def _refusal_bytes(message: str, hint: str) -> bytes:
    return Refusal(code=RefusalCode.BAD_REQUEST, message=message, hint=hint).model_dump_json().encode()


def _raw_response(status: int, reason: str, body: bytes, retry_after_s: int | None = None) -> bytes:
    head = f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
    if retry_after_s is not None:
        head += f"retry-after: {retry_after_s}\r\n"
    return (head + "connection: close\r\n\r\n").encode() + body


def guarded_protocol(limits: ServeLimits) -> type[H11Protocol]:
    """An h11 protocol class with a header deadline, a connection cap and the client certificate in scope."""
    from uvicorn.protocols.http.h11_impl import H11Protocol  # uvicorn loads only for enrol-serve

    class GuardedH11Protocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None
        _abort_timer: asyncio.TimerHandle | None = None
        _refused = False
        _bytes_since_answer = 0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > limits.max_connections:
                self._refused = True
                _logger.warning("refused a connection: %d open (limit %d)", len(self.connections), limits.max_connections)  # fmt: skip
                body = _refusal_bytes(
                    "the enrolment service has too many open connections",
                    f"retry in {limits.retry_after_s} s; enrolment retries on its own",
                )
                transport.write(_raw_response(503, "Service Unavailable", body, limits.retry_after_s))
                self._close()
                return
            self._expose_client_cert(transport)
            self._arm_header_timer()

        def _expose_client_cert(self, transport: asyncio.Transport) -> None:
            # Uvicorn does not hand the verified client certificate to the app: add the ASGI TLS extension.
            ssl_object = transport.get_extra_info("ssl_object")
            der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
            chain = [ssl.DER_cert_to_PEM_cert(der)] if der else []
            app = self.app

            async def with_tls(scope: Any, receive: Any, send: Any) -> None:
                scope.setdefault("extensions", {})["tls"] = {"client_cert_chain": chain}
                await app(scope, receive, send)

            self.app = with_tls

        def _awaiting_headers(self) -> bool:
            return self.cycle is None or self.cycle.response_complete

        def _arm_header_timer(self) -> None:
            if self._header_timer is None:
                self._bytes_since_answer = 0
                self._header_timer = self.loop.call_later(limits.header_timeout_s, self._header_timeout)

        def _disarm_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _header_timeout(self) -> None:
            self._header_timer = None
            if self.transport.is_closing() or not self._awaiting_headers():
                return
            _logger.warning(
                "closed a connection: request headers incomplete after %.0f s", limits.header_timeout_s
            )
            if self._bytes_since_answer:
                body = _refusal_bytes(
                    f"the request headers did not arrive within {limits.header_timeout_s:g} s",
                    "send the whole request at once; check the network between the kiosk and the central",
                )
                self.transport.write(_raw_response(408, "Request Timeout", body))
            self._close()

        def _close(self) -> None:
            if not self.transport.is_closing():
                self.transport.close()
            self._abort_later()

        def _abort_later(self) -> None:
            if self._abort_timer is None:
                self._abort_timer = self.loop.call_later(CLOSE_GRACE_S, self.transport.abort)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if self.transport.is_closing():  # answered with Connection: close (e.g. a refusal)
                self._abort_later()

        def timeout_keep_alive_handler(self) -> None:
            super().timeout_keep_alive_handler()
            self._abort_later()

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            if self._awaiting_headers():
                self._arm_header_timer()  # also re-armed for the next request on a kept-alive connection
                self._bytes_since_answer += len(data)
            super().data_received(data)
            if not self._awaiting_headers():
                self._disarm_header_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm_header_timer()
            if self._abort_timer is not None:
                self._abort_timer.cancel()
            super().connection_lost(exc)

    return GuardedH11Protocol


class _Refused(Exception):
    def __init__(self, status: int, message: str, hint: str, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.hint, self.retry_after_s = status, message, hint, retry_after_s


class RequestLimits:
    """ASGI middleware: bounded requests in progress, bounded and deadline-read bodies (see module docstring)."""

    def __init__(self, app: _App, limits: ServeLimits) -> None:
        self.app = app
        self.limits = limits
        self.in_progress = 0

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        """Refuse or pass on one request; the app receives the already read body."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            if self.in_progress >= self.limits.max_requests:
                raise _Refused(
                    503,
                    f"the enrolment service is busy ({self.limits.max_requests} requests in progress)",
                    f"retry in {self.limits.retry_after_s} s; enrolment retries on its own",
                    self.limits.retry_after_s,
                )
            self.in_progress += 1
        except _Refused as refused:
            _logger.warning("refused %s %s: %s", scope["method"], scope["path"], refused.message)
            await self._refuse(send, refused)
            return
        try:
            try:
                body = await self._read_body(scope, receive)
            except _Refused as refused:
                _logger.warning("refused %s %s: %s", scope["method"], scope["path"], refused.message)
                await self._refuse(send, refused)
                return
            await self.app(scope, _replay(body, receive), send)
        finally:
            self.in_progress -= 1

    async def _read_body(self, scope: _Scope, receive: _Receive) -> bytes:
        headers = {k.lower(): v for k, v in scope["headers"]}
        if b"transfer-encoding" in headers:
            raise _Refused(
                411, "a chunked request body is not accepted", "send the body with a Content-Length"
            )
        try:
            length = int(headers.get(b"content-length", b"0"))
        except ValueError:
            raise _Refused(400, "the Content-Length header is not a number", "send a valid request") from None
        if length > self.limits.max_body_bytes:
            raise _Refused(
                413,
                f"the request body is {length} bytes; at most {self.limits.max_body_bytes} are accepted",
                "an enrolment request is a few KB: send only the JSON request with its CSR",
            )
        if length == 0:
            return b""
        chunks = bytearray()
        try:
            async with asyncio.timeout(self.limits.body_timeout_s):
                while True:
                    message = await receive()
                    if message["type"] != "http.request":
                        raise _Refused(400, "the client disconnected during the body", "")
                    chunks += message.get("body", b"")
                    if (
                        len(chunks) > self.limits.max_body_bytes
                    ):  # h11 enforces Content-Length; a second guard
                        raise _Refused(
                            413, "the request body exceeds its Content-Length", "send a valid request"
                        )
                    if not message.get("more_body", False):
                        return bytes(chunks)
        except TimeoutError:
            raise _Refused(
                408,
                f"the request body did not arrive within {self.limits.body_timeout_s:g} s",
                "send the whole request at once; check the network between the kiosk and the central",
            ) from None

    @staticmethod
    async def _refuse(send: _Send, refused: _Refused) -> None:
        body = _refusal_bytes(refused.message, refused.hint)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),  # never read the rest of a refused body
        ]
        if refused.retry_after_s is not None:
            headers.append((b"retry-after", str(refused.retry_after_s).encode()))
        await send({"type": "http.response.start", "status": refused.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _replay(body: bytes, receive: _Receive) -> _Receive:
    """A receive callable that first returns the read body, then waits on the connection (disconnect)."""
    sent = False

    async def replay() -> MutableMapping[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
