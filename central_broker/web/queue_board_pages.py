"""The waiting-room display board `/board/<branch>` (1920×1080, full screen) and the operators' board links.

The board shows the numbers being called with their counter (the newest large, the others listed), plays a
chime (WebAudio) and speaks the call in Japanese and English where the browser has `speechSynthesis`. It
follows the branch's journal over server-sent events (`/board/<branch>/events`): every change sends the
whole board, and each call or recall since the last message is announced. The events carry ids, so a
board that lost its connection announces the calls it missed (at most `MISSED_CALLS`).

Access: a board is a public screen in the hall, opened without signing in by its link
`/board/<branch>?key=<key>` (`queue_common.board_key`, per branch, from the central's board secret), which
operators copy from `/queue/boards`; the key opens that branch's board (page and events) whoever holds it.
Without the key, operators open every board and staff the boards of their own branches; another branch's
board answers staff with the 403 page of the counters (`queue_counter_access`: their branches and the
command that adds one), and anybody else with a 403 that asks for the board's link.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.exceptions import HTTPException
from starlette.responses import Response, StreamingResponse

from central_broker.accounts import Role
from central_broker.queue import EventKind, QueueEvent
from central_broker.web.context import WebContext, ctx_of, session_of
from central_broker.web.i18n import gettext_ as _
from central_broker.web.queue_common import (
    board_key,
    branches_of,
    check_board_key,
    counter_number,
    feed_of,
    poll_s,
    queue_of,
    sse,
)
from central_broker.web.queue_counter_access import branch_denied
from central_broker.web.queue_texts import BOARD_TEXTS
from central_broker.web.security import require

__all__ = ["board_values", "router"]

_logger = logging.getLogger(__name__)

_KEEPALIVE_S = 15.0
RECENT = 12  # numbers listed beside the newest
MISSED_CALLS = 5
_ANNOUNCED = (EventKind.CALLED, EventKind.RECALLED)
_BOARD_ROLES = (Role.STAFF, Role.OPERATOR)


def _counter_texts(ctx: WebContext, counter: str) -> dict[str, str]:
    number = counter_number(ctx, counter)
    return {
        "counter_no": number,
        "counter_ja": BOARD_TEXTS["ja"]["counter"].format(number=number),
        "counter_en": BOARD_TEXTS["en"]["counter"].format(number=number),
    }


def board_values(ctx: WebContext, branch: str) -> list[dict[str, Any]]:
    """The board of `branch`: numbers called or being served, latest call first."""
    return [
        {"number": e.number, "state": e.state.value, **_counter_texts(ctx, e.counter)}
        for e in queue_of(ctx).board(branch)[: RECENT + 1]
    ]


def _spoken_number(number: str) -> str:
    return number.replace("-", " ")  # "A 12", not "A minus 12"


def _announcement(ctx: WebContext, event: QueueEvent) -> dict[str, str]:
    texts = _counter_texts(ctx, event.counter or "")
    number = event.number or ""
    return {
        "number": number,
        "kind": event.kind.value,
        "ja": BOARD_TEXTS["ja"]["announce"].format(
            number=_spoken_number(number), counter=texts["counter_no"]
        ),
        "en": BOARD_TEXTS["en"]["announce"].format(
            number=_spoken_number(number), counter=texts["counter_no"]
        ),
        **texts,
    }


def _calls_after(ctx: WebContext, branch: str, after_id: int) -> list[dict[str, str]]:
    events = queue_of(ctx).events(branch, after_id=after_id, limit=500)
    return [_announcement(ctx, e) for e in events if e.kind in _ANNOUNCED][-MISSED_CALLS:]


def _refused(request: Request, branch: str, key: str) -> Response | None:
    """None when the board of `branch` may be shown: its key, an operator, or staff of that branch; else
    the 403 page of another branch's staff (as the counter pages'). Raises 403 without a session or key."""
    ctx = ctx_of(request)
    queue_of(ctx)
    if check_board_key(ctx, branch, key):
        return None  # the hall screen's link: whoever holds it may show it
    session = session_of(request)
    if session is not None and session.role in _BOARD_ROLES:
        return branch_denied(request, session, branch)
    _logger.info("board of %s refused: no session and no valid key", branch)
    raise HTTPException(
        403, _("This board needs its link with the board key; operators find it under Boards.")
    )


def _last_event_id(request: Request) -> int | None:
    raw = request.headers.get("last-event-id", "")
    return int(raw) if raw.isdigit() else None


def router() -> APIRouter:
    """Routes of this module."""
    api = APIRouter()

    @api.get("/board/{branch}")
    def board_page(request: Request, branch: str, key: str = "") -> Response:
        if (refused := _refused(request, branch, key)) is not None:
            return refused
        ctx = ctx_of(request)
        return ctx.templates.TemplateResponse(
            request,
            "queue_board.html",
            {
                "branch": branch,
                "entries": board_values(ctx, branch),
                "ja": BOARD_TEXTS["ja"],
                "en": BOARD_TEXTS["en"],
            },
        )

    @api.get("/board/{branch}/events")
    async def board_events(request: Request, branch: str, key: str = "") -> Response:
        ctx = ctx_of(request)
        feed = feed_of(ctx)
        if (refused := await feed.read(_refused, request, branch, key)) is not None:
            return refused
        interval = poll_s(ctx)
        resumed = _last_event_id(request)

        async def stream() -> AsyncIterator[bytes]:
            yield b"retry: 2000\n\n"
            seen = await feed.read(feed.last_id, branch)
            calls = [] if resumed is None else await feed.read(_calls_after, ctx, branch, resumed)
            entries = await feed.read(board_values, ctx, branch)
            yield sse("board", {"entries": entries, "calls": calls}, seen)
            idle = 0.0
            while True:  # a client that leaves cancels the stream (StreamingResponse listens for it)
                await asyncio.sleep(interval)
                idle += interval
                latest = await feed.read(feed.last_id, branch)
                if latest != seen:
                    calls = await feed.read(_calls_after, ctx, branch, seen)
                    entries = await feed.read(board_values, ctx, branch)
                    seen = latest
                    yield sse("board", {"entries": entries, "calls": calls}, seen)
                    idle = 0.0
                elif idle >= _KEEPALIVE_S:
                    yield b": keep-alive\n\n"
                    idle = 0.0

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"}
        )

    @api.get("/queue/boards")
    def boards(request: Request) -> Response:
        require(session_of(request), Role.OPERATOR)
        ctx = ctx_of(request)
        queue_of(ctx)
        secret = ctx.board_secret
        links = [
            (
                branch,
                f"/board/{quote(branch, safe='')}"
                + ("" if secret is None else f"?key={board_key(secret, branch)}"),
            )
            for branch in branches_of(ctx)
        ]
        return ctx.render(request, "queue_boards.html", links=links, has_secret=secret is not None)

    return api
