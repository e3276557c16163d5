"""Live updates over server-sent events: `/events` says `fleet`, `orders` or `calls` (staff calls) when
one of them changed.

The stream polls cheap fingerprints (counts and latest change times) once per `sse_interval_s`,
so changes written by another process (the ingest, the RPC service) show up too. Presence and
alert changes are sent at once; health messages alone at most every `HEALTH_EVENT_EVERY_S`. Pages reload
their fragment when told (`static/live.js`); a comment line every 15 s keeps proxies from
closing an idle stream.

As the queue pages' streams (docs/queue.md, "After 2"): the fingerprints are read in at most
`STREAM_READERS` worker threads shared by every `/events` stream, and the loop does not poll
`request.is_disconnected()` (StreamingResponse ends the stream when the client goes away).

Branches: the stream says only that something changed, with no number, counter or branch in it; what a
page then shows is that page's own business (the counter pages check the account's branch on every route,
`/counter/events` included), so `/events` needs no branch check.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from sqlalchemy import func, select
from starlette.responses import StreamingResponse

from central_broker.accounts import Role
from central_broker.store.schema import kiosk_health, kiosk_state
from central_broker.store.telemetry_schema import kiosk_ack, kiosk_alert
from central_broker.web.context import WebContext, ctx_of, session_of
from central_broker.web.security import require
from central_broker.web.stream_readers import StreamReaders

__all__ = ["fleet_fingerprint", "router"]

_logger = logging.getLogger(__name__)

_KEEPALIVE_S = 15.0
HEALTH_EVENT_EVERY_S = (
    5.0  # health alone refreshes pages at most this often (2,000 kiosks report every minute)
)
_READERS = StreamReaders()  # every `/events` stream's queries share these few worker threads


def fleet_fingerprint(ctx: WebContext) -> tuple[tuple[object, ...], object]:
    """(presence, alerts and acks; latest health): the first changes when a kiosk's presence (going
    stale included), an alert or a command's progress changes; the second on every health message."""
    stale_before = ctx.fleet.now_ms() - int(ctx.fleet.stale_after_s * 1000)
    state = select(
        func.count(),
        func.max(kiosk_state.c.since),
        func.count().filter(kiosk_state.c.last_seen < stale_before),
        func.max(kiosk_state.c.app_ver),
    )
    alerts = select(
        func.count(),
        func.max(kiosk_alert.c.received_at),
        func.count(kiosk_alert.c.cleared_at),
        select(func.max(kiosk_ack.c.id)).scalar_subquery(),
    )
    health = select(func.max(kiosk_health.c.received_at))
    with ctx.fleet.engine.connect() as conn:
        presence = (*conn.execute(state).one(), *conn.execute(alerts).one())
        return presence, conn.execute(health).scalar()


def router() -> APIRouter:
    """Routes of this module."""
    api = APIRouter()

    @api.get("/events")
    async def events(request: Request) -> StreamingResponse:
        session = require(session_of(request), *Role)
        ctx = ctx_of(request)
        watch_fleet = session.role is Role.OPERATOR
        watch_calls = session.role in (Role.OPERATOR, Role.STAFF)

        async def stream() -> AsyncIterator[bytes]:
            last_fleet: tuple[tuple[object, ...], object] | None = None
            since_fleet_event = 0.0
            last_orders: tuple[int, int] | None = None
            idle = 0.0
            yield b"retry: 2000\n\n"
            # The page may have been rendered before something changed and before this stream took its
            # first fingerprint: have it refresh once now, then only on changes.
            if watch_fleet:
                yield b"event: fleet\ndata: connected\n\n"
            yield b"event: orders\ndata: connected\n\n"
            if watch_calls:
                yield b"event: calls\ndata: connected\n\n"
            last_calls: tuple[object, ...] | None = None
            while True:  # a client that leaves ends the stream: StreamingResponse stops iterating it
                if watch_fleet:
                    fleet = await _READERS.run(fleet_fingerprint, ctx)
                    presence_changed = last_fleet is not None and fleet[0] != last_fleet[0]
                    health_changed = last_fleet is not None and fleet[1] != last_fleet[1]
                    if presence_changed or (health_changed and since_fleet_event >= HEALTH_EVENT_EVERY_S):
                        yield b"event: fleet\ndata: changed\n\n"
                        idle = since_fleet_event = 0.0
                        last_fleet = fleet
                    elif last_fleet is None or not health_changed:
                        last_fleet = fleet  # a health change waits until HEALTH_EVENT_EVERY_S has passed
                orders = await _READERS.run(ctx.orders.last_change)
                if last_orders is not None and orders != last_orders:
                    yield b"event: orders\ndata: changed\n\n"
                    idle = 0.0
                last_orders = orders
                if watch_calls:
                    calls = await _READERS.run(ctx.fleet.staff_calls_fingerprint)
                    if last_calls is not None and calls != last_calls:
                        yield b"event: calls\ndata: changed\n\n"
                        idle = 0.0
                    last_calls = calls
                await asyncio.sleep(ctx.sse_interval_s)
                idle += ctx.sse_interval_s
                since_fleet_event += ctx.sse_interval_s
                if idle >= _KEEPALIVE_S:
                    yield b": keep-alive\n\n"
                    idle = 0.0

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"}
        )

    return api
