"""Sliding-window rate limits for the public pages (the certificate online check).

A `RateLimiter` allows at most `count` events per key within any `per_s` seconds and says how long to
wait otherwise; refused attempts do not count. It keeps at most `max_keys` keys (the least recently
used go first), so a flood of new client addresses cannot grow memory without bound. State is in
memory: limits restart with the process, which bounds guessing no worse than the window itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Limit", "RateLimiter", "VerifyGate"]

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    """At most `count` events within any `per_s` seconds."""

    count: int
    per_s: float


class RateLimiter:
    """Thread-safe sliding-window limiter keyed by any string (client address, serial, "all")."""

    def __init__(self, limit: Limit, clock: Callable[[], float] = time.time, max_keys: int = 10_000) -> None:
        self.limit = limit
        self._clock = clock
        self._max_keys = max_keys
        self._events: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait_s(self, key: str) -> float:
        """0 and the event counted when `key` is within its limit; else the seconds until it will be."""
        now = self._clock()
        with self._lock:
            events = self._events.pop(key, None) or deque()
            while events and events[0] <= now - self.limit.per_s:
                events.popleft()
            self._events[key] = events
            if len(self._events) > self._max_keys:
                self._events.popitem(last=False)
            if len(events) >= self.limit.count:
                return max(0.001, events[0] + self.limit.per_s - now)
            events.append(now)
            return 0.0


@dataclass
class VerifyGate:
    """The online check's rate limits: per client address, per serial (guessing a code or a birth date for
    one certificate) and for the whole service."""

    clock: Callable[[], float] = time.time
    client: Limit = Limit(10, 60)
    serial: Limit = Limit(5, 3600)
    overall: Limit = Limit(300, 60)
    _limiters: dict[str, RateLimiter] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("overall", "client", "serial"):
            self._limiters[name] = RateLimiter(getattr(self, name), self.clock)

    def refusal(self, which: str, key: str) -> tuple[str, float] | None:
        """(which limit, seconds to wait) when `key` is over the `which` limit, else None (and counted)."""
        wait = self._limiters[which].wait_s(key)
        return (which, wait) if wait else None
