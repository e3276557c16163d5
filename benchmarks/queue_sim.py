"""Helpers of `benchmarks/queue.py`: the benchmark catalog, simulated counter staff, status-page and board viewers.

- `write_catalog`: the sample catalog grown to N counters, one queue category (prefix A…Z) per counter
  as far as letters go; the other counters are reached as a visit's later counters (`then`).
- `run_staff` (a process): one thread per counter working the central store's database directly
  through a `QueueService` (as several processes may): call next → start → done, times compressed.
  Sends back every call as (number, counter, wall time after the call committed).
- `run_viewers` (a process): asyncio clients of the real web server. Each new ticket goes to a free
  viewer slot (or one whose visit ended), which streams `/q/<token>/events` from its own loopback
  address (127.0.x.y, so the per-address limit of the status page applies per phone); plus board
  viewers on `/board/<branch>/events?key=`. Sends back when each visit was seen called, and when each
  (number, counter) appeared on the board.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import random
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from sqlalchemy.exc import DBAPIError

from central_broker.queue import Desk, QueueError, Staff, open_queue
from central_broker.queue.retry import is_transient_lock
from central_broker.queue_link.hosting import queue_config
from madoguchi.config.queue import QueueSection
from madoguchi.contracts.catalog import load_catalog, sample_catalog_path

__all__ = ["BenchCatalog", "run_staff", "run_viewers", "write_catalog"]

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class BenchCatalog:
    """The catalog file and what the benchmark needs from it."""

    path: Path
    counters: tuple[str, ...]  # the N counters staffed, in catalog order
    categories: tuple[str, ...]  # categories whose counter is staffed
    sign_numbers: dict[str, str] = field(default_factory=dict)  # counter id → number on its sign (board)


def write_catalog(folder: Path, counters: int) -> BenchCatalog:
    """The sample catalog with at least `counters` counters (extra ones `bench_NN`) written under `folder`."""
    data = json.loads(sample_catalog_path().read_text(encoding="utf-8"))
    all_counters = data["procedures"]["counters"]
    departments = [d["id"] for d in data["procedures"]["departments"]]
    template = all_counters[0]
    for i in range(len(all_counters), counters):
        extra = copy.deepcopy(template)
        extra.update(
            id=f"bench_{i + 1:02d}",
            department=departments[i % len(departments)],
            floor=1 + i % 3,
            number=str(100 + i),
            visit_order=100 + i,
        )
        extra["names"] = {lang: f"{text} {i + 1}" for lang, text in template["names"].items()}
        all_counters.append(extra)
    staffed = [c["id"] for c in all_counters[:counters]]
    categories = data["queue"]["categories"]
    category_template = categories[0]
    used = {c["counter"] for c in categories}
    for counter in staffed:
        if counter in used or len(categories) >= len(_LETTERS):
            continue
        extra = copy.deepcopy(category_template)
        letter = next(x for x in _LETTERS if x not in {c["prefix"] for c in categories})
        extra.update(id=f"bench_{counter}", counter=counter, prefix=letter)
        extra["names"] = {lang: f"{text} ({counter})" for lang, text in category_template["names"].items()}
        categories.append(extra)
        used.add(counter)
    path = folder / "catalog-queue-bench.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    load_catalog(path)  # valid, or fail here rather than in the central
    return BenchCatalog(
        path=path,
        counters=tuple(staffed),
        categories=tuple(c["id"] for c in categories if c["counter"] in staffed),
        sign_numbers={c["id"]: c.get("number") or c["id"] for c in all_counters},
    )


# --- staff ---------------------------------------------------------------------------------------


_T = TypeVar("_T")


def _until_written(stop: Event, action: Callable[[], _T]) -> _T | None:
    """`action()`; a database still locked after the queue's own retries is reported and tried again, so a
    staff thread never ends on it (None when the run stops first)."""
    while not stop.is_set():
        try:
            return action()
        except DBAPIError as exc:
            if not is_transient_lock(exc):
                raise
            print(f"staff thread: database still locked ({exc.orig}); trying again", file=sys.stderr)
            stop.wait(0.2)
    return None


def _work_desk(
    queue: Any, desk: Desk, staff: Staff, service_s: float, stop: Event, calls: list[tuple[str, str, float]]
) -> None:
    rng = random.Random(hash(desk.counter))
    _until_written(stop, partial(queue.open_desk, desk, staff))
    while not stop.is_set():
        try:
            visit = _until_written(stop, partial(queue.call_next, desk, staff))
        except QueueError:
            time.sleep(0.1)
            continue
        if visit is None:
            stop.wait(0.1)
            continue
        calls.append((visit.number, desk.counter, time.time()))
        stop.wait(service_s * rng.uniform(0.2, 0.4))  # walking to the counter
        _until_written(stop, partial(queue.start, desk, staff, visit_id=visit.id))
        stop.wait(service_s * rng.uniform(0.6, 1.4))
        _until_written(stop, partial(queue.done, desk, staff, visit_id=visit.id))


def run_staff(
    store_url: str, catalog_path: str, section_json: str, branch: str, counters: list[str],
    service_s: float, stop: Event, out: Connection,
) -> None:  # fmt: skip
    """Work `counters` at `branch` until `stop`; then send [(number, counter, called at)] over `out`."""
    section = QueueSection.model_validate_json(section_json)
    queue = open_queue(store_url, load_catalog(catalog_path), queue_config(section))
    calls: list[tuple[str, str, float]] = []
    threads = [
        threading.Thread(
            target=_work_desk,
            args=(queue, Desk(branch, c), Staff(f"staff{i:02d}", branch), service_s, stop, calls),
            daemon=True,
        )
        for i, c in enumerate(counters)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.send(calls)
    queue.close()


# --- viewers -------------------------------------------------------------------------------------


async def _sse(host: str, port: int, path: str, source: str) -> Any:
    """Yield (event, data) of a server-sent event stream (HTTP/1.1, chunked), from address `source`."""
    reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
    try:
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        status = await reader.readline()
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        if b" 200 " not in status:
            raise ConnectionError(status.decode(errors="replace").strip())
        buffer = b""
        while True:
            size = int((await reader.readline()).strip() or b"0", 16)
            if size == 0:
                return
            buffer += (await reader.readexactly(size + 2))[:-2]
            while b"\n\n" in buffer:
                block, buffer = buffer.split(b"\n\n", 1)
                event, data = "message", ""
                for line in block.decode().splitlines():
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: "):
                        data = line[6:]
                if data:
                    yield event, json.loads(data)
    finally:
        writer.close()


@dataclass
class _Slot:
    source: str
    number: str = ""
    state: str = ""
    task: asyncio.Task[None] | None = None


@dataclass
class _Viewers:
    host: str
    port: int
    slots: list[_Slot]
    seen_called: list[tuple[str, float, float]] = field(default_factory=list)  # number, connected, seen
    board_seen: list[tuple[str, str, float]] = field(default_factory=list)  # number, counter no, seen
    errors: list[str] = field(default_factory=list)
    unwatched: int = 0
    connected: int = 0

    async def follow(self, slot: _Slot, token: str) -> None:
        connected = 0.0
        try:
            async for event, data in _sse(self.host, self.port, f"/q/{token}/events", slot.source):
                if event != "status":
                    continue
                now = time.time()
                if not connected:
                    connected = now
                    self.connected += 1
                if data["state"] == "called" and slot.state != "called":
                    self.seen_called.append((slot.number, connected, now))
                slot.state = data["state"]
        except (OSError, ConnectionError, ValueError) as exc:
            self.errors.append(f"{slot.number}: {exc}")
        finally:
            if connected:
                self.connected -= 1

    def watch(self, token: str, number: str) -> None:
        free = next((s for s in self.slots if s.task is None), None) or next(
            (s for s in self.slots if s.state in ("done", "cancelled")), None
        )
        if free is None:
            self.unwatched += 1
            return
        if free.task is not None:
            free.task.cancel()
        free.number, free.state = number, ""
        free.task = asyncio.get_running_loop().create_task(self.follow(free, token))

    async def board(self, path: str, source: str) -> None:
        shown: set[tuple[str, str]] = set()
        try:
            async for event, data in _sse(self.host, self.port, path, source):
                if event != "board":
                    continue
                now = time.time()
                current = {(e["number"], e["counter_no"]) for e in data["entries"]}
                current |= {(c["number"], c["counter_no"]) for c in data["calls"]}
                self.board_seen += [(n, c, now) for n, c in current - shown]
                shown = current
        except (OSError, ConnectionError, ValueError) as exc:
            self.errors.append(f"board: {exc}")


async def _viewers_main(
    host: str, port: int, count: int, board_path: str, boards: int, pipe: Connection
) -> None:
    loop = asyncio.get_running_loop()
    sources = [f"127.0.{1 + i // 250}.{1 + i % 250}" for i in range(count)]
    viewers = _Viewers(host, port, [_Slot(s) for s in sources])
    board_tasks = [loop.create_task(viewers.board(board_path, f"127.1.0.{1 + i}")) for i in range(boards)]
    while True:
        message = await loop.run_in_executor(None, pipe.recv)
        if message[0] == "watch":
            viewers.watch(message[1], message[2])
        elif message[0] == "connected":
            pipe.send(viewers.connected)
        elif message[0] == "stop":
            break
    for task in board_tasks + [s.task for s in viewers.slots if s.task is not None]:
        task.cancel()
    for task in board_tasks + [s.task for s in viewers.slots if s.task is not None]:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    pipe.send(
        {
            "seen_called": viewers.seen_called,
            "board_seen": viewers.board_seen,
            "errors": viewers.errors,
            "unwatched": viewers.unwatched,
        }
    )


def run_viewers(host: str, port: int, count: int, board_path: str, boards: int, pipe: Connection) -> None:
    """Serve ("watch", token, number) / ("connected",) / ("stop",) from `pipe`; answer the last with results."""
    asyncio.run(_viewers_main(host, port, count, board_path, boards, pipe))


def board_path(branch: str, key: str) -> str:
    """The board's event stream path."""
    return f"/board/{quote(branch, safe='')}/events?key={key}"
