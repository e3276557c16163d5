"""Per-kiosk token bucket for `queue.take`: a burst, then a steady rate (a flooding kiosk gets refusals)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["TokenBuckets"]


@dataclass
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    """One bucket per key (device id): `burst` tokens, refilled at `per_minute`; thread-safe.

    Args:
        burst: tokens a full bucket holds (requests allowed in a row).
        per_minute: refill rate.
        clock: monotonic seconds (tests pass a fake).
    """

    def __init__(self, burst: int, per_minute: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = burst
        self.rate = per_minute / 60.0
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str) -> float:
        """Use one token of `key`'s bucket: 0.0 when allowed, else the seconds until one is free."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate

    def retry_after_s(self, wait: float) -> int:
        """Whole seconds to tell the kiosk (at least 1)."""
        return max(1, math.ceil(wait))
