"""What many live queue pages cost the central: residents' status streams wait for the branch snapshot on the
event loop and query through a few worker threads, so they do not grow the web's thread pool (each thread is
a stack and, with glibc, a malloc arena that keeps its memory); the streams keep their security headers.

A real uvicorn server and raw HTTP/1.1 event-stream clients, as the phones would be.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from central_broker.queue import Desk, QueueService, Staff
from central_broker.queue.snapshot import BranchSnapshot, branch_snapshot
from central_broker.web.queue_common import STREAM_READERS
from central_broker.web.ratelimit import Limit, StatusGate
from tests.fixtures.web import RunningWeb

BRANCH = "本庁舎"
STAFF = Staff("sato", BRANCH)
DESK_A = Desk(BRANCH, "shimin_1")
PHONES = 24


async def _events(
    url: str, path: str, headers: dict[str, str] | None = None
) -> AsyncIterator[tuple[str, Any]]:
    """(event, data) of a server-sent event stream; ("headers", {...}) first."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        status = await reader.readline()
        assert b" 200 " in status, status
        received: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            received[name.strip().lower()] = value.strip()
        yield "headers", received
        buffer = b""
        while size := int((await reader.readline()).strip() or b"0", 16):
            buffer += (await reader.readexactly(size + 2))[:-2]
            while b"\n\n" in buffer:
                block, buffer = buffer.split(b"\n\n", 1)
                fields = dict(line.split(": ", 1) for line in block.decode().splitlines() if ": " in line)
                if "data" in fields:
                    yield fields.get("event", "message"), json.loads(fields["data"])
    finally:
        writer.close()


class _Phone:
    """One resident following a status page: the states it was shown."""

    def __init__(self) -> None:
        self.states: list[str] = []
        self.headers: dict[str, str] = {}
        self.shown = asyncio.Event()

    async def follow(self, url: str, token: str) -> None:
        async for event, data in _events(url, f"/q/{token}/events"):
            if event == "headers":
                self.headers = data
            elif event == "status":
                self.states.append(data["state"])
                self.shown.set()


async def _follow_and_call(
    web: RunningWeb, queue: QueueService, tokens: list[str]
) -> tuple[int, int, _Phone]:
    """Every token followed at once, then the first number called; (threads before, most threads, first phone)."""
    before = threading.active_count()
    most = before
    phones = [_Phone() for _ in tokens]
    tasks = [asyncio.create_task(p.follow(web.url, t)) for p, t in zip(phones, tokens, strict=True)]
    try:
        deadline = time.monotonic() + 30
        while not all(p.shown.is_set() for p in phones):
            assert time.monotonic() < deadline, "not every status page got its first update"
            most = max(most, threading.active_count())
            await asyncio.sleep(0.01)
        queue.open_desk(DESK_A, STAFF)  # here, not in a thread of this test: only the server's threads count
        queue.call_next(DESK_A, STAFF)
        while "called" not in phones[0].states:
            assert time.monotonic() < deadline, f"the call never reached the page: {phones[0].states}"
            most = max(most, threading.active_count())
            await asyncio.sleep(0.01)
        for _ in range(50):  # the other streams read the new snapshot too
            most = max(most, threading.active_count())
            await asyncio.sleep(0.01)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return before, most, phones[0]


def test_many_status_pages_use_a_few_worker_threads(
    web_server: RunningWeb, web_queue: QueueService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN 24 residents following their status pages at once, and a branch snapshot that takes a while to
    read (a busy branch) WHEN a number is called THEN the page shows it, and the streams used at most
    `STREAM_READERS` worker threads at any time (they wait for the one snapshot read on the event loop;
    before, each waited in a worker thread of its own and the pool grew towards 40 threads). The streams carry
    the security headers of every page."""
    web_server.ctx.status_gate = StatusGate(web_server.ctx.clock, client=Limit(1000, 60))

    def slow_snapshot(queue: Any, branch: str, last_id: int, previous: Any = None) -> BranchSnapshot:
        time.sleep(0.3)
        return branch_snapshot(queue, branch, last_id, previous)

    monkeypatch.setattr("central_broker.web.queue_common.branch_snapshot", slow_snapshot)
    tokens = [web_queue.take(BRANCH, "moving").token for _ in range(PHONES)]

    before, most, first = asyncio.run(_follow_and_call(web_server, web_queue, tokens))

    assert first.states[0] == "waiting" and first.states[-1] == "called"
    assert most - before <= STREAM_READERS, f"{most - before} worker threads for {PHONES} status pages"
    assert first.headers["content-type"].startswith("text/event-stream")
    assert "script-src 'self'" in first.headers["content-security-policy"]
    assert first.headers["cache-control"] == "no-store"
    assert first.headers["x-content-type-options"] == "nosniff"
    assert first.headers["x-frame-options"] == "DENY"
