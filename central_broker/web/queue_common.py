"""What the visit-queue pages share: the service (or 503), counter labels, branches, board keys, the journal tail.

- `queue_of(ctx)`: the context's `QueueService`; without one every queue page answers 503 with a reason.
- Board keys: a display board in the waiting hall opens `/board/<branch>?key=<key>` without signing in;
  the key is HMAC-SHA256 of the branch under the central's board secret (`load_board_secret`), so it
  differs per branch, needs no table and is revoked for every branch at once by replacing the secret.
- `QueueFeed`: the latest journal id per branch, read at most once per `interval_s` whatever the number
  of live pages following that branch (500 status pages cost one query a second, not 500), and one
  `BranchSnapshot` per new id (every visit's status, read once) that the status streams read from memory.
  Event streams ask `await feed.current(branch)`: one worker thread refreshes a branch for all of them while
  they wait on the event loop, and every other query of the streams goes through `await feed.read(...)`, at
  most `STREAM_READERS` worker threads at once: 500 streams connecting or waiting do not grow the web's
  thread pool (each new thread is a stack and, with glibc, a malloc arena of its own that keeps its memory).
- Queue pages poll every `poll_s(ctx)` (`sse_interval_s`, at most `QUEUE_POLL_S`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar, TypeVarTuple

from fastapi.exceptions import HTTPException
from sqlalchemy import select

from central_broker.queue import QueueService
from central_broker.queue.schema import queue_desk
from central_broker.queue.snapshot import BranchSnapshot, branch_snapshot
from central_broker.store.schema import kiosk_state
from central_broker.web.context import WebContext
from central_broker.web.i18n import gettext_ as _
from central_broker.web.stream_readers import STREAM_READERS, StreamReaders
from madoguchi.contracts.catalog_base import CatalogLookupError

__all__ = [
    "BOARD_SECRET_BYTES",
    "QUEUE_POLL_S",
    "STREAM_READERS",
    "QueueFeed",
    "board_key",
    "branches_of",
    "check_board_key",
    "counter_floor",
    "counter_label",
    "feed_of",
    "load_board_secret",
    "poll_s",
    "queue_of",
    "sse",
]

_logger = logging.getLogger(__name__)

BOARD_SECRET_BYTES = 32
QUEUE_POLL_S = 0.5  # queue pages poll at least this often (calls should show within a second)

_T = TypeVar("_T")
_Args = TypeVarTuple("_Args")


def queue_of(ctx: WebContext) -> QueueService:
    """The queue service of the context.

    Raises:
        HTTPException: 503 when the central runs no queue.
    """
    if ctx.queue is None:
        raise HTTPException(503, _("The visit queue is not running on this central."))
    return ctx.queue


def load_board_secret(path: Path) -> bytes:
    """The board secret in `path`, created (32 random bytes, mode 0600) when missing."""
    if path.exists():
        data = path.read_bytes()
        if len(data) >= 16:
            return data
        _logger.warning("board secret %s is too short; writing a new one", path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = secrets.token_bytes(BOARD_SECRET_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    _logger.info("new display-board secret in %s (board links of every branch changed)", path)
    return data


def board_key(secret: bytes, branch: str) -> str:
    """The key of `branch`'s display board (128 bits, hex)."""
    return hmac.new(secret, b"board\x00" + branch.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def check_board_key(ctx: WebContext, branch: str, key: str) -> bool:
    """True when `key` opens `branch`'s board (constant-time)."""
    if ctx.board_secret is None or not key:
        return False
    return hmac.compare_digest(board_key(ctx.board_secret, branch).encode(), key.encode("utf-8", "replace"))


def counter_label(ctx: WebContext, counter: str, language: str) -> str:
    """`窓口 6 Health Insurance and Pension`-style label parts: the sign number and name; the id if unknown."""
    try:
        found = ctx.catalog.counter(counter)
    except CatalogLookupError:
        return counter
    return found.names.text(language)


def counter_number(ctx: WebContext, counter: str) -> str:
    """The number on the counter's sign (its id when the catalog has none)."""
    try:
        return ctx.catalog.counter(counter).number or counter
    except CatalogLookupError:
        return counter


def counter_floor(ctx: WebContext, counter: str) -> int | None:
    """The floor of a counter, None if unknown."""
    try:
        return ctx.catalog.counter(counter).floor
    except CatalogLookupError:
        return None


def branches_of(ctx: WebContext) -> list[str]:
    """Branches to offer: the configured ones, else every branch kiosks reported or counters were opened at."""
    if ctx.queue_branches:
        return list(ctx.queue_branches)
    found: set[str] = set()
    with ctx.fleet.engine.connect() as conn:
        found |= {b for b in conn.execute(select(kiosk_state.c.branch).distinct()).scalars() if b}
        if ctx.queue is not None:
            found |= set(conn.execute(select(queue_desk.c.branch).distinct()).scalars())
    return sorted(found)


def sse(event: str, data: object, event_id: int | None = None) -> bytes:
    """One server-sent event with a JSON payload (one line: JSON escapes newlines)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


class QueueFeed:
    """The latest journal id of each branch, shared by every live page of the process.

    Args:
        queue: the queue service.
        interval_s: a branch's latest id is read at most this often.
        clock: monotonic seconds.
    """

    def __init__(
        self, queue: QueueService, interval_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.queue = queue
        self.interval_s = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._latest: dict[str, tuple[float, int]] = {}
        self._snapshots: dict[str, BranchSnapshot] = {}
        self._computing: dict[str, threading.Lock] = {}
        self._refreshing: dict[str, asyncio.Task[BranchSnapshot]] = {}  # per branch, on the web's event loop
        self._readers = StreamReaders()

    def _read(self, branch: str) -> int:
        return self.queue.last_event_id(branch)

    def last_id(self, branch: str) -> int:
        """The id of `branch`'s latest journal entry (0: none), at most `interval_s` old."""
        now = self._clock()
        with self._lock:
            cached = self._latest.get(branch)
            if cached is not None and now - cached[0] < self.interval_s:
                return cached[1]
        latest = self._read(branch)
        with self._lock:
            self._latest[branch] = (now, latest)
        return latest

    def cached_snapshot(self, branch: str) -> BranchSnapshot | None:
        """`branch`'s snapshot when it is current (no query, safe on the event loop), else None."""
        now = self._clock()
        with self._lock:
            cached = self._latest.get(branch)
            snap = self._snapshots.get(branch)
        if cached is None or snap is None or now - cached[0] >= self.interval_s or snap.last_id != cached[1]:
            return None
        return snap

    def snapshot(self, branch: str) -> BranchSnapshot:
        """Every visit's status at `branch` as of its latest journal id; computed once per new id."""
        latest = self.last_id(branch)
        with self._lock:
            snap = self._snapshots.get(branch)
            computing = self._computing.setdefault(branch, threading.Lock())
        if snap is not None and snap.last_id == latest:
            return snap
        with computing:  # the other streams wait for the one computing it
            with self._lock:
                snap = self._snapshots.get(branch)
            if snap is not None and snap.last_id >= latest:
                return snap
            snap = branch_snapshot(self.queue, branch, latest, previous=snap)
            with self._lock:
                self._snapshots[branch] = snap
            return snap

    async def current(self, branch: str) -> BranchSnapshot:
        """`snapshot(branch)` for the event loop: from memory when current, else one worker thread refreshes it
        for every stream that asks meanwhile (they wait here, not each in a worker thread of its own)."""
        snap = self.cached_snapshot(branch)
        if snap is not None:
            return snap
        loop = asyncio.get_running_loop()
        task = self._refreshing.get(branch)
        if task is None or task.done() or task.get_loop() is not loop:
            task = loop.create_task(self.read(self.snapshot, branch))
            task.add_done_callback(lambda t: self._refreshed(branch, t))
            self._refreshing[branch] = task
        return await asyncio.shield(task)  # a stream that goes away does not cancel the others' refresh

    async def read(self, func: Callable[[*_Args], _T], *args: *_Args) -> _T:
        """`func(*args)` in a worker thread for an event stream, at most `STREAM_READERS` of them at once."""
        return await self._readers.run(func, *args)

    def _refreshed(self, branch: str, task: asyncio.Task[BranchSnapshot]) -> None:
        if self._refreshing.get(branch) is task:
            del self._refreshing[branch]  # the snapshot stays in `_snapshots`; the task is not kept
        if not task.cancelled() and (exc := task.exception()) is not None:
            _logger.debug("queue snapshot of %s failed: %s", branch, exc)  # each waiting stream got it too


def poll_s(ctx: WebContext) -> float:
    """How often the queue pages' event streams look for journal changes (seconds)."""
    return min(ctx.sse_interval_s, QUEUE_POLL_S)


def feed_of(ctx: WebContext) -> QueueFeed:
    """The process's `QueueFeed` (kept in the context's cache)."""
    queue = queue_of(ctx)
    with ctx.cache_lock:
        feed = ctx.cache.get("queue_feed")
        if not isinstance(feed, QueueFeed) or feed.queue is not queue:
            feed = QueueFeed(queue, max(0.05, poll_s(ctx) / 2))
            ctx.cache["queue_feed"] = feed
        return feed
