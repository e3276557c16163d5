"""Worker threads for the queries of live-update streams (SSE): a fixed few, whatever the number of streams.

A stream that ran each query through `run_in_threadpool` would take one of anyio's up to 40 worker threads
per waiting stream; each new thread is a stack and, with glibc, a malloc arena of its own that keeps its
memory (docs/queue.md, "After 2"). `StreamReaders.run` runs the query in a worker thread too, but at most
`STREAM_READERS` of one `StreamReaders` at once; the other streams wait on the event loop.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import TypeVar, TypeVarTuple

import anyio
import anyio.to_thread

__all__ = ["STREAM_READERS", "StreamReaders"]

STREAM_READERS = 2  # worker threads one group of event streams uses at once, whatever their number

_T = TypeVar("_T")
_Args = TypeVarTuple("_Args")


class StreamReaders:
    """At most `limit` worker threads at once for the streams that share this object (per event loop).

    Args:
        limit: worker threads at once.
    """

    def __init__(self, limit: int = STREAM_READERS) -> None:
        self.limit = limit
        self._limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
            weakref.WeakKeyDictionary()
        )

    async def run(self, func: Callable[[*_Args], _T], *args: *_Args) -> _T:
        """`func(*args)` in a worker thread, waiting on the event loop while `limit` others run."""
        loop = asyncio.get_running_loop()
        limiter = self._limiters.get(loop)
        if limiter is None:
            limiter = self._limiters[loop] = anyio.CapacityLimiter(self.limit)
        return await anyio.to_thread.run_sync(func, *args, limiter=limiter)
