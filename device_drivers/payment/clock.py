"""Injectable clocks and deadline objects for the link and transaction timers.

`SystemClock` is the real thing. `FakeClock` is virtual time for tests and the simulator: it moves
only when someone sleeps on it or when a waiter reports an idle poll (`idle()`), so a 180 s result
timer can run out in milliseconds of real time while the bytes still travel over a real pty.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Protocol

__all__ = ["JST", "Clock", "Deadline", "FakeClock", "SystemClock"]

JST = dt.timezone(dt.timedelta(hours=9), "JST")


class Clock(Protocol):
    """Monotonic time for timers, wall time for the journal."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    def wall(self) -> dt.datetime:
        """Aware wall-clock time."""
        ...

    def sleep(self, seconds: float) -> None:
        """Let `seconds` pass."""
        ...

    def idle(self, seconds: float) -> None:
        """Report that a poll of `seconds` real time saw nothing (virtual clocks move on)."""
        ...


class SystemClock:
    """The real clocks."""

    def monotonic(self) -> float:
        """`time.monotonic()`."""
        return time.monotonic()

    def wall(self) -> dt.datetime:
        """Now, in UTC."""
        return dt.datetime.now(dt.UTC)

    def sleep(self, seconds: float) -> None:
        """`time.sleep()`."""
        if seconds > 0:
            time.sleep(seconds)

    def idle(self, seconds: float) -> None:
        """Real time already passed during the poll."""


class FakeClock:
    """Virtual time shared by threads; `idle_step` is how far one empty poll moves it.

    Args:
        idle_step: virtual seconds added per idle poll (0 freezes time while nothing happens).
        start_wall: wall time at virtual time 0.
    """

    def __init__(self, idle_step: float = 0.05, start_wall: dt.datetime | None = None) -> None:
        self._now = 1000.0
        self._origin = self._now
        self._lock = threading.Lock()
        self.idle_step = idle_step
        self._start_wall = start_wall or dt.datetime.now(dt.UTC)

    def monotonic(self) -> float:
        """Virtual seconds."""
        with self._lock:
            return self._now

    def wall(self) -> dt.datetime:
        """Start wall time plus the virtual time elapsed."""
        with self._lock:
            return self._start_wall + dt.timedelta(seconds=self._now - self._origin)

    def advance(self, seconds: float) -> None:
        """Move virtual time forward."""
        with self._lock:
            self._now += max(0.0, seconds)

    def sleep(self, seconds: float) -> None:
        """Advance at once, and yield the processor briefly so other threads run."""
        self.advance(seconds)
        time.sleep(0.001)

    def idle(self, seconds: float) -> None:
        """An empty poll: move on by `idle_step`."""
        self.advance(self.idle_step)


class Deadline:
    """A deadline on a clock, restartable (e.g. T_RESULT restarted by each PRG)."""

    def __init__(self, clock: Clock, seconds: float) -> None:
        self._clock = clock
        self.seconds = seconds
        self._end = clock.monotonic() + seconds

    def restart(self, seconds: float | None = None) -> None:
        """Start again from now, optionally with a new duration."""
        if seconds is not None:
            self.seconds = seconds
        self._end = self._clock.monotonic() + self.seconds

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self._end - self._clock.monotonic())

    def expired(self) -> bool:
        """True once the deadline has passed."""
        return self._clock.monotonic() >= self._end
