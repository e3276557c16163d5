"""Branches on the queue's live pages: the display board and the counter's live-update stream, and what the
staff `/events` stream costs.

A real uvicorn server (an event stream never ends, so each answer is read only up to its status and first
event); the session cookie comes from signing in through the real form with a `TestClient` on the same web.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.client import HTTPConnection, HTTPResponse
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from central_broker.accounts import Role
from central_broker.queue import Desk, QueueService, Staff
from central_broker.web import WebContext
from central_broker.web.queue_common import board_key
from central_broker.web.queue_counter_pages import COUNTER_COOKIE
from central_broker.web.security import SESSION_COOKIE
from central_broker.web.stream_readers import STREAM_READERS
from tests.fixtures.web import BOARD_SECRET, RunningWeb, make_user, signed_in

BRANCH = "本庁舎"
OTHER_BRANCH = "北支所"
DESK_A = Desk(BRANCH, "shimin_1")
STREAMS = 24


def _session(client: TestClient, ctx: WebContext, role: Role, *branches: str) -> tuple[str, str]:
    """(user name, session cookie) of a new account of `role` working at `branches`."""
    name, password = make_user(ctx, role)
    if branches:
        ctx.accounts.change_branches(name, add=branches, actor="test")
    client.cookies.clear()
    client.cookies.set("mdg_lang", "en")
    signed_in(client, name, password)
    session = client.cookies.get(SESSION_COOKIE)
    assert session
    return name, session


@contextmanager
def _opened(web: RunningWeb, path: str, **cookies: str) -> Iterator[HTTPResponse]:
    """GET `path` as a browser with `cookies`; the answer with its headers, its body left unread."""
    host, port = web.url.removeprefix("http://").split(":")
    http = HTTPConnection(host, int(port), timeout=10)
    jar = "; ".join(f"{name}={value}" for name, value in {"mdg_lang": "en", **cookies}.items())
    try:
        http.request("GET", path, headers={"Cookie": jar, "Accept": "text/event-stream, text/html"})
        yield http.getresponse()
    finally:
        http.close()


def _first_line(answer: HTTPResponse) -> str:
    return answer.readline().decode()


def _denied_text(answer: HTTPResponse) -> str:
    return answer.read().decode()


def test_staff_of_another_branch_cannot_follow_a_counters_live_updates(
    web_server: RunningWeb, web_client: TestClient, web_queue: QueueService
) -> None:
    """GIVEN a staff account of 北支所 whose browser had chosen 本庁舎's counter 1 (before the account moved, or by
    editing its cookie) WHEN the counter page's live stream is opened THEN it is the 403 page naming the
    account's branch and the command that adds 本庁舎, not 本庁舎's stream; its own branch's counter streams."""
    web_queue.open_desk(DESK_A, Staff("sato", BRANCH))
    name, session = _session(web_client, web_server.ctx, Role.STAFF, OTHER_BRANCH)

    chosen = json.dumps([BRANCH, "shimin_1"])
    with _opened(
        web_server, "/counter/events", **{SESSION_COOKIE: session, COUNTER_COOKIE: chosen}
    ) as answer:
        assert answer.status == 403
        text = _denied_text(answer)
    assert 'id="branch-denied"' in text
    assert f"Your account {name} works at {OTHER_BRANCH}; this counter belongs to {BRANCH}." in text
    assert f"kiosk-central users branches {name} --add &#39;{BRANCH}&#39;" in text

    own = json.dumps([OTHER_BRANCH, "shimin_1"])
    with _opened(web_server, "/counter/events", **{SESSION_COOKIE: session, COUNTER_COOKIE: own}) as answer:
        assert answer.status == 200
        assert answer.headers["Content-Type"].startswith("text/event-stream")


def test_a_board_opens_with_its_key_and_for_staff_only_at_their_own_branch(
    web_server: RunningWeb, web_client: TestClient, web_queue: QueueService
) -> None:
    """GIVEN a staff account of 北支所 WHEN it opens 本庁舎's board or its event stream without the board key THEN
    it gets the 403 page of the counters (its branch, the command that adds 本庁舎); 北支所's board opens; with
    本庁舎's board key (the hall screen's link) 本庁舎's board opens for anyone, an operator opens it without."""
    name, staff = _session(web_client, web_server.ctx, Role.STAFF, OTHER_BRANCH)
    board = f"/board/{quote(BRANCH)}"
    key = f"?key={board_key(BOARD_SECRET, BRANCH)}"

    for path in (board, f"{board}/events"):
        with _opened(web_server, path, **{SESSION_COOKIE: staff}) as answer:
            assert answer.status == 403, path
            text = _denied_text(answer)
        assert 'id="branch-denied"' in text
        assert f"kiosk-central users branches {name} --add &#39;{BRANCH}&#39;" in text

    with _opened(web_server, f"/board/{quote(OTHER_BRANCH)}", **{SESSION_COOKIE: staff}) as answer:
        assert answer.status == 200
    with _opened(web_server, f"{board}/events{key}", **{SESSION_COOKIE: staff}) as answer:
        assert answer.status == 200 and "retry" in _first_line(answer)
    with _opened(web_server, f"{board}/events{key}") as answer:  # the hall screen, nobody signed in
        assert answer.status == 200
    with _opened(web_server, f"{board}/events") as answer:
        assert answer.status == 403

    _, operator = _session(web_client, web_server.ctx, Role.OPERATOR)
    with _opened(web_server, f"{board}/events", **{SESSION_COOKIE: operator}) as answer:
        assert answer.status == 200


async def _follow_events(url: str, session: str, got_first: asyncio.Event) -> None:
    """One staff page following `/events` (raw HTTP/1.1) until cancelled."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(
            f"GET /events HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
            f"Cookie: {SESSION_COOKIE}={session}\r\n\r\n".encode()
        )
        assert b" 200 " in await reader.readline()
        while line := await reader.readline():
            if b"event: orders" in line:
                got_first.set()
    finally:
        writer.close()


async def _most_threads_while_following(url: str, session: str, seconds: float) -> tuple[int, int]:
    before = most = threading.active_count()
    firsts = [asyncio.Event() for _ in range(STREAMS)]
    tasks = [asyncio.create_task(_follow_events(url, session, f)) for f in firsts]
    try:
        deadline = time.monotonic() + 30
        while not all(f.is_set() for f in firsts):
            assert time.monotonic() < deadline, "not every page got its first event"
            most = max(most, threading.active_count())
            await asyncio.sleep(0.01)
        end = time.monotonic() + seconds
        while time.monotonic() < end:  # the streams poll their fingerprints meanwhile
            most = max(most, threading.active_count())
            await asyncio.sleep(0.01)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return before, most


def test_many_staff_pages_following_events_use_a_few_worker_threads(
    web_server: RunningWeb, web_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN 24 staff pages following `/events` and an orders check that takes a while (a busy store) WHEN they
    poll for changes THEN the streams use at most `STREAM_READERS` worker threads at any time (before, each
    stream waited in a worker thread of its own and the pool grew with the number of pages)."""
    _, session = _session(web_client, web_server.ctx, Role.STAFF, BRANCH)
    orders = web_server.ctx.orders
    last_change = orders.last_change

    def slow_last_change() -> tuple[int, int]:
        time.sleep(0.1)
        return last_change()

    monkeypatch.setattr(orders, "last_change", slow_last_change)
    before, most = asyncio.run(_most_threads_while_following(web_server.url, session, 1.0))
    assert most - before <= STREAM_READERS, f"{most - before} worker threads for {STREAMS} staff pages"
