"""Clocks for flows: a monotonic `Clock` is any zero-argument callable; `FakeClock` is moved by tests and demos."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Clock", "FakeClock", "monotonic_clock"]

Clock = Callable[[], float]


def monotonic_clock() -> float:
    """Seconds from an arbitrary start that never go backwards (the production clock)."""
    return time.monotonic()


class FakeClock:
    """A clock that only moves when told to: `advance(seconds)`."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by `seconds` (never backwards)."""
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        self._now += seconds
