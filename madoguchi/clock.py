"""Clocks that can be handed to services instead of `time.time` (tests move them forward)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["SteppableClock"]


class SteppableClock:
    """The wall clock plus an offset that only grows: time flows, and `advance()` jumps ahead.

    Call it like `time.time()`; pass it as `clock=` to the central store, the ingest or the agent.
    """

    def __init__(self, base: Callable[[], float] = time.time) -> None:
        self._base = base
        self._offset = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._base() + self._offset

    def advance(self, seconds: float) -> None:
        """Jump `seconds` into the future."""
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        with self._lock:
            self._offset += seconds
