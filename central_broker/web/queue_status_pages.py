"""The resident status page `/q/<token>` (from the ticket's QR): no sign-in, phone-sized, nine languages.

It shows the visit number and where the visit stands — waiting at counter X (people ahead and a wait
range, never a single number), called at counter X, being served, next counter, done — and follows the
branch's journal over server-sent events (`/q/<token>/events`), which carry the re-rendered panel, so the
page changes without a reload. No personal data exists in the queue to show. A stream resolves its token
to its visit once; afterwards it reads the visit from the branch snapshot that `QueueFeed` computes once
per journal change for every stream (the streams wait for it on the event loop, not in worker threads),
and re-renders its panel only when what it shows changed. Between two polls a stream keeps only the
panel it last sent, not the snapshot; a client that goes away ends its stream (`StreamingResponse`
listens for the disconnect), so the stream does not poll for it.

Unknown, forged and expired tokens get the very same answer (404, a body that depends only on the
language). Page loads and live-update connections are rate-limited per client address and overall
(`ratelimit.StatusGate`); a refusal is 429 with `Retry-After`.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from central_broker.queue import QueueError, StopState, VisitState, VisitStatus
from central_broker.queue.snapshot import BranchSnapshot, TokenVisit, token_visit
from central_broker.web.auth_pages import client_of
from central_broker.web.context import WebContext, ctx_of
from central_broker.web.queue_common import QueueFeed, counter_floor, feed_of, poll_s, sse
from central_broker.web.queue_texts import LANGUAGE_NAMES, resident_language, status_text
from madoguchi.contracts.catalog_base import CatalogLookupError

__all__ = ["router", "status_values"]

_logger = logging.getLogger(__name__)

_KEEPALIVE_S = 15.0
TOKEN_MAX = 128


def _counter_text(ctx: WebContext, counter: str, lang: str) -> tuple[str, str]:
    """(counter as residents read it, its floor) in `lang`."""
    try:
        found = ctx.catalog.counter(counter)
        name, number = found.names.text(lang), found.number or counter
    except CatalogLookupError:  # a counter no longer in the catalog is shown by id
        name, number = counter, counter
    floor = counter_floor(ctx, counter)
    return (
        status_text(lang, "counter", number=number, name=name),
        "" if floor is None else status_text(lang, "floor", floor=floor),
    )


def status_values(ctx: WebContext, status: VisitStatus, lang: str) -> dict[str, Any]:
    """What the status panel shows, in `lang`: number, state, message, people ahead, wait range, counters to come."""
    visit = status.visit
    current = visit.current
    values: dict[str, Any] = {"number": visit.number, "ahead": "", "range": "", "then": []}
    if visit.state is VisitState.FINISHED:
        values.update(state="done", message=status_text(lang, "done"))
        return values
    if visit.state is VisitState.CANCELLED or current is None:
        values.update(state="cancelled", message=status_text(lang, "cancelled"))
        return values
    counter, floor = _counter_text(ctx, current.counter, lang)
    values["then"] = [_counter_text(ctx, s.counter, lang)[0] for s in visit.next_stops]
    if current.state is StopState.CALLED:
        values.update(state="called", message=status_text(lang, "called", counter=counter, floor=floor))
    elif current.state is StopState.SERVING:
        values.update(state="serving", message=status_text(lang, "serving", counter=counter))
    else:
        earlier_done = any(s.state is StopState.DONE and s.seq < current.seq for s in visit.stops)
        state = "next" if earlier_done else "waiting"
        values.update(state=state, message=status_text(lang, state, counter=counter, floor=floor))
        if status.estimate is not None:
            est = status.estimate
            values["ahead"] = status_text(lang, "ahead", n=est.people_ahead)
            values["range"] = status_text(lang, "range", low=est.lower_minutes, high=est.upper_minutes)
    return values


def _texts(lang: str) -> dict[str, str]:
    keys = ("title", "number", "then", "live", "reconnecting", "range_note", "language")
    return {k: status_text(lang, k) for k in keys}


def _page(
    request: Request, lang: str, status_code: int, template: str = "queue_status.html", **values: Any
) -> Response:
    ctx = ctx_of(request)
    values.setdefault("panel", None)
    return ctx.templates.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "t": _texts(lang),
            "languages": list(LANGUAGE_NAMES.items()),
            **values,
        },
        status_code=status_code,
    )


def _refusal(request: Request, lang: str, status_code: int, key: str, title_key: str = "title") -> Response:
    return _page(
        request,
        lang,
        status_code,
        "queue_status_refused.html",
        heading=status_text(lang, title_key),
        message=status_text(lang, key),
    )


def _admit(request: Request, lang: str) -> Response | None:
    """A refusal response when the client is over its limit (429) or the queue is missing (503)."""
    ctx = ctx_of(request)
    gate = ctx.status_gate
    assert gate is not None  # made by WebContext
    if wait := gate.wait_s(client_of(request)):
        _logger.info("status page: %s throttled for %.0f s", client_of(request), wait)
        response = _refusal(request, lang, 429, "too_many")
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response
    if ctx.queue is None:
        return _refusal(request, lang, 503, "unavailable")
    return None


def _lookup(ctx: WebContext, token: str) -> VisitStatus | None:
    if ctx.queue is None or len(token) > TOKEN_MAX:
        return None
    return ctx.queue.status_by_token(token)


def _resolve(ctx: WebContext, token: str) -> TokenVisit | None:
    if ctx.queue is None or len(token) > TOKEN_MAX:
        return None
    return token_visit(ctx.queue, token)


def _in_memory(feed: QueueFeed, ref: TokenVisit, snap: BranchSnapshot | None) -> VisitStatus | None:
    """The visit's status from a current snapshot without any query; None: ask `_current`."""
    if snap is None or feed.queue.now_ms() >= ref.expires_at:
        return None
    return snap.statuses.get(ref.visit_id)


def _current(ctx: WebContext, feed: QueueFeed, ref: TokenVisit) -> VisitStatus | None:
    """The visit's status from the branch snapshot (one read per journal change for every stream)."""
    queue = feed.queue
    if queue.now_ms() >= ref.expires_at:
        return None  # expired while followed: the same answer as an unknown token
    snap = feed.cached_snapshot(ref.branch) or feed.snapshot(ref.branch)
    found = snap.statuses.get(ref.visit_id)
    if found is not None:
        return found
    try:  # not in today's snapshot (a visit of another business day): read it alone
        return VisitStatus(queue.visit(ref.visit_id), queue.estimate_for_visit(ref.visit_id))
    except QueueError:
        return None


async def _panel_after(
    ctx: WebContext, feed: QueueFeed, ref: TokenVisit, lang: str, seen: int
) -> tuple[int, dict[str, Any]] | None:
    """(latest journal id, the panel's values) when the branch changed after journal entry `seen`, else None."""
    snap = await feed.current(ref.branch)
    if snap.last_id == seen:
        return None
    status = _in_memory(feed, ref, snap)
    if status is None:
        status = await feed.read(_current, ctx, feed, ref)
    return snap.last_id, _panel_values(ctx, status, lang)


def _not_found(request: Request, lang: str) -> Response:
    """The one answer for unknown, forged and expired tokens."""
    return _refusal(request, lang, 404, "not_found", "not_found_title")


def _panel_values(ctx: WebContext, status: VisitStatus | None, lang: str) -> dict[str, Any]:
    if status is None:
        return {
            "state": "ended",
            "number": "",
            "message": status_text(lang, "not_found"),
            "ahead": "",
            "range": "",
            "then": [],
        }
    return status_values(ctx, status, lang)


def _render_panel(ctx: WebContext, panel: dict[str, Any], lang: str) -> str:
    template = ctx.templates.get_template("queue_status_panel.html")
    return template.render(panel=panel, t=_texts(lang))


def router() -> APIRouter:
    """Routes of this module."""
    api = APIRouter()

    @api.get("/q/{token}")
    def status_page(request: Request, token: str, lang: str = "") -> Response:
        language = resident_language(lang, request.headers.get("accept-language"))
        if (refused := _admit(request, language)) is not None:
            return refused
        ctx = ctx_of(request)
        status = _lookup(ctx, token)
        if status is None:
            return _not_found(request, language)
        return _page(request, language, 200, panel=status_values(ctx, status, language))

    @api.get("/q/{token}/events")
    async def status_events(request: Request, token: str, lang: str = "") -> Response:
        language = resident_language(lang, request.headers.get("accept-language"))
        if (refused := _admit(request, language)) is not None:
            return refused
        ctx = ctx_of(request)
        feed = feed_of(ctx)
        ref = await feed.read(_resolve, ctx, token)
        if ref is None:
            return _not_found(request, language)
        interval = poll_s(ctx)

        async def stream() -> AsyncIterator[bytes]:
            yield b"retry: 3000\n\n"
            seen = -1
            shown: dict[str, Any] | None = None
            idle = 0.0
            while True:  # until the visit is gone; a client that leaves cancels the stream
                change = await _panel_after(ctx, feed, ref, language, seen)
                if change is not None:
                    seen, values = change
                    if values != shown:  # the panel is rendered only when what it shows changed
                        shown = values
                        html = _render_panel(ctx, values, language)
                        yield sse("status", {"html": html, "state": values["state"]})
                        idle = 0.0
                    if values["state"] == "ended":
                        return
                await asyncio.sleep(interval)
                idle += interval
                if idle >= _KEEPALIVE_S:
                    yield b": keep-alive\n\n"
                    idle = 0.0

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"}
        )

    return api
