"""The counter page `/counter` (counter staff and operators): call, recall, no-show, start, done, transfer,
add a counter, finish — big buttons with keyboard shortcuts, live updates, no personal data.

The counter is chosen once per browser (`/counter/choose`, kept in the `mdg_counter` cookie for a year;
choosing opens it). The page shows the counter's called visit (number, state, recalls, counters still to
come) and who waits next; its panel reloads when the branch's journal moves (SSE `/counter/events`, event
`queue`). Actions are CSRF-protected POSTs carrying the visit the page showed (`visit_id`), so a stale page
never acts on the next resident; a refusal (`QueueError`) is shown as text — a translated line for its
kind, then the core's message and hint.

Staff work only the counters of their account's branches, operators every branch: every route refuses a
counter of another branch with a 403 page saying what to do (`queue_counter_access`). The panel also lists
the branch's offline tickets the centre refused today (number, kiosk, issue time, reason), so staff can
serve those residents by hand.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response, StreamingResponse

from central_broker.accounts import Role
from central_broker.queue import Desk, QueueError, QueueErrorKind, QueueService, Staff, StopState
from central_broker.web.auth_pages import verify_form
from central_broker.web.context import WebContext, ctx_of, session_of
from central_broker.web.i18n import current_language
from central_broker.web.i18n import gettext_ as _
from central_broker.web.queue_common import branches_of, counter_number, feed_of, queue_of
from central_broker.web.queue_counter_access import account_branches, branch_denied
from central_broker.web.security import require
from madoguchi.contracts.catalog_base import CatalogLookupError

__all__ = ["COUNTER_COOKIE", "REFUSALS", "router"]

_logger = logging.getLogger(__name__)

ROLES = (Role.STAFF, Role.OPERATOR)
COUNTER_COOKIE = "mdg_counter"
_KEEPALIVE_S = 15.0
# One translated line per refusal kind (msgids of web.po); the core's own message and hint follow it.
REFUSALS = {
    QueueErrorKind.COUNTER_NOT_OPEN: "This counter is not open.",
    QueueErrorKind.OTHER_BRANCH: "This counter belongs to another branch.",
    QueueErrorKind.DOUBLE_CALL: "A number is already called at this counter.",
    QueueErrorKind.NOTHING_CALLED: "Nobody is called at this counter.",
    QueueErrorKind.WRONG_STATE: "Not possible in the visit's current state.",
    QueueErrorKind.VISIT_ENDED: "This visit has already ended.",
    QueueErrorKind.UNKNOWN_COUNTER: "There is no such counter.",
    QueueErrorKind.NOT_FOUND: "There is no such visit.",
    QueueErrorKind.INVALID: "Not possible.",
}
_GENERIC_REFUSAL = "The queue refused this."


def _counters(ctx: WebContext, lang: str) -> list[tuple[str, str]]:
    return [
        (c.id, f"{c.number or c.id} {c.names.text(lang)}")
        for c in sorted(ctx.catalog.procedures.counters, key=lambda c: (c.visit_order, c.id))
    ]


def _chosen(request: Request, ctx: WebContext) -> Desk | None:
    """The counter this browser works, from its cookie; None when unset or no longer in the catalog."""
    try:
        branch, counter = json.loads(request.cookies.get(COUNTER_COOKIE, ""))
    except (ValueError, TypeError):
        return None
    if not isinstance(branch, str) or not isinstance(counter, str) or not branch or len(branch) > 64:
        return None
    try:
        ctx.catalog.counter(counter)
    except CatalogLookupError:
        return None
    return Desk(branch, counter)


def _panel(ctx: WebContext, desk: Desk) -> dict[str, Any]:
    """What the counter panel shows."""
    queue = queue_of(ctx)
    lang = current_language()
    status = next((d for d in queue.desks(desk.branch) if d.desk == desk), None)
    line = queue.line(desk)
    held = queue.visit(status.visit_id) if status is not None and status.visit_id is not None else None
    stop = held.current if held is not None else None
    names = dict(_counters(ctx, lang))
    return {
        "desk": desk,
        "counter_name": ctx.catalog.counter(desk.counter).names.text(lang),
        "is_open": bool(status and status.is_open),
        "held": held,
        "stop": stop,
        "serving": stop is not None and stop.state is StopState.SERVING,
        "recalls_needed": queue.config.no_show_recalls,
        "to_come": [names.get(s.counter, s.counter) for s in held.next_stops] if held else [],
        "waiting": len(line),
        "next_number": line[0].number if line else "",
        "estimate": queue.estimate_for_counter(desk.branch, desk.counter) if line else None,
        "counters": [(cid, label) for cid, label in _counters(ctx, lang) if cid != desk.counter],
        "counter_no": counter_number(ctx, desk.counter),
        "refused_offline": queue.offline_refused(desk.branch),
    }


def _page(request: Request, desk: Desk, status_code: int = 200, **values: Any) -> Response:
    ctx = ctx_of(request)
    values.setdefault("refusal", None)
    return ctx.render(request, "queue_counter.html", status_code=status_code, **_panel(ctx, desk), **values)


def _chooser(request: Request, status_code: int = 200, **values: Any) -> Response:
    ctx = ctx_of(request)
    queue_of(ctx)
    current = _chosen(request, ctx)
    session = session_of(request)
    values.setdefault("error", "")
    if session is not None and session.role is not Role.OPERATOR:
        branches = list(account_branches(request, session))  # staff: only their own branches
        current = current if current is not None and current.branch in branches else None
    else:
        branches = branches_of(ctx)
    return ctx.render(
        request,
        "queue_counter_choose.html",
        status_code=status_code,
        branches=branches,
        counters=_counters(ctx, current_language()),
        current=current,
        **values,
    )


def _refusal(exc: QueueError) -> dict[str, str]:
    return {
        "kind": exc.kind.value,
        "title": _(REFUSALS.get(exc.kind, _GENERIC_REFUSAL)),
        "message": exc.message,
        "hint": exc.hint,
    }


def _act(queue: QueueService, action: str, desk: Desk, staff: Staff, visit_id: int | None, to: str) -> None:
    """Run one desk operation (raises `QueueError` when refused)."""
    simple: dict[str, Callable[..., object]] = {
        "recall": queue.recall,
        "no_show": queue.no_show,
        "start": queue.start,
        "done": queue.done,
        "finish": queue.finish,
    }
    if action == "call":
        queue.call_next(desk, staff)
    elif action in simple:
        simple[action](desk, staff, visit_id=visit_id)
    elif action == "transfer":
        queue.transfer(desk, staff, to, visit_id=visit_id)
    elif action == "add":
        if visit_id is None:
            raise QueueError(QueueErrorKind.NOTHING_CALLED, "no visit is held here", "call a number first")
        queue.add_counter(visit_id, to, staff)
    elif action == "open":
        queue.open_desk(desk, staff)
    elif action == "close":
        queue.close_desk(desk, staff)
    else:
        raise HTTPException(404, _("No such counter action."))


ACTIONS = ("call", "recall", "no_show", "start", "done", "finish", "transfer", "add", "open", "close")


def router() -> APIRouter:
    """Routes of this module."""
    api = APIRouter()

    @api.get("/counter")
    def counter_page(request: Request, choose: str = "") -> Response:
        session = require(session_of(request), *ROLES)
        ctx = ctx_of(request)
        queue_of(ctx)
        if (no_branch := branch_denied(request, session, None)) is not None:
            return no_branch
        desk = _chosen(request, ctx)
        if desk is None or choose:
            return _chooser(request)
        return branch_denied(request, session, desk.branch) or _page(request, desk)

    @api.post("/counter/choose")
    def choose(
        request: Request,
        branch: str = Form("", max_length=64),
        counter: str = Form("", max_length=64),
        csrf_token: str = Form(""),
    ) -> Response:
        session = require(session_of(request), *ROLES)
        verify_form(request, csrf_token)
        ctx = ctx_of(request)
        queue = queue_of(ctx)
        branch = branch.strip()
        if not branch:
            return _chooser(request, 400, error=_("Choose the branch you work at."))
        if (denied := branch_denied(request, session, branch)) is not None:
            return denied
        desk = Desk(branch, counter)
        try:
            queue.open_desk(desk, Staff(session.username, branch))
        except QueueError as exc:
            return _chooser(
                request, 400, error=f"{_(REFUSALS.get(exc.kind, _GENERIC_REFUSAL))} {exc.message}"
            )
        response = RedirectResponse("/counter", status_code=303)
        response.set_cookie(
            COUNTER_COOKIE,
            json.dumps([branch, counter]),
            httponly=True,
            samesite="strict",
            secure=ctx.secure_cookies,
            max_age=365 * 86400,
        )
        return response

    @api.get("/counter/fragment")
    def counter_fragment(request: Request) -> Response:
        session = require(session_of(request), *ROLES)
        ctx = ctx_of(request)
        desk = _chosen(request, ctx)
        if desk is None:
            raise HTTPException(409, _("Choose your counter first."))
        if (denied := branch_denied(request, session, desk.branch)) is not None:
            return denied
        return ctx.render(request, "queue_counter_fragment.html", refusal=None, **_panel(ctx, desk))

    @api.get("/counter/events")
    async def counter_events(request: Request) -> Response:
        session = require(session_of(request), *ROLES)
        ctx = ctx_of(request)
        desk = _chosen(request, ctx)
        if desk is None:
            raise HTTPException(409, _("Choose your counter first."))
        feed = feed_of(ctx)
        if (denied := await feed.read(branch_denied, request, session, desk.branch)) is not None:
            return denied

        async def stream() -> AsyncIterator[bytes]:
            yield b"retry: 2000\n\n"
            seen = await feed.read(feed.last_id, desk.branch)
            yield b"event: queue\ndata: connected\n\n"  # the page may predate a change: refresh once
            idle = 0.0
            while True:  # a client that leaves ends the stream (as the board's; no disconnect polling)
                await asyncio.sleep(ctx.sse_interval_s)
                idle += ctx.sse_interval_s
                latest = await feed.read(feed.last_id, desk.branch)
                if latest != seen:
                    seen = latest
                    yield f"event: queue\ndata: {latest}\n\n".encode()
                    idle = 0.0
                elif idle >= _KEEPALIVE_S:
                    yield b": keep-alive\n\n"
                    idle = 0.0

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"}
        )

    @api.post("/counter/{action}")
    def counter_action(
        request: Request,
        action: str,
        csrf_token: str = Form(""),
        visit_id: str = Form("", max_length=20),
        to_counter: str = Form("", max_length=64),
    ) -> Response:
        session = require(session_of(request), *ROLES)
        verify_form(request, csrf_token)
        if action not in ACTIONS:
            raise HTTPException(404, _("No such counter action."))
        ctx = ctx_of(request)
        queue = queue_of(ctx)
        desk = _chosen(request, ctx)
        if desk is None:
            return RedirectResponse("/counter", status_code=303)
        if (denied := branch_denied(request, session, desk.branch)) is not None:
            _logger.info("counter %s/%s: %s refused: other branch", desk.branch, desk.counter, action)
            return denied
        held = int(visit_id) if visit_id.isdigit() else None
        try:
            _act(queue, action, desk, Staff(session.username, desk.branch), held, to_counter)
        except QueueError as exc:
            _logger.info("counter %s/%s: %s refused: %s", desk.branch, desk.counter, action, exc.kind.value)
            return _page(request, desk, 409, refusal=_refusal(exc))
        return RedirectResponse("/counter", status_code=303)

    return api
