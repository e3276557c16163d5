"""Run a foreground service until SIGTERM or Ctrl-C: both set one stop event.

The signal handler must not take a lock: Python runs it in the main thread between bytecodes, and
if that thread holds the lock inside `threading.Event.wait` (it does, briefly, on every wake-up),
`Event.set()` from the handler would deadlock. `SignalEvent` therefore signals through a pipe,
which needs no lock, and waits with `select`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["SignalEvent", "stop_on_signals"]

_logger = logging.getLogger(__name__)


class SignalEvent(threading.Event):
    """A `threading.Event` whose `set()` is safe to call from a signal handler."""

    def __init__(self) -> None:
        super().__init__()
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)

    def set(self) -> None:
        """Set the flag: one byte into the pipe (no lock taken)."""
        with contextlib.suppress(BlockingIOError):
            os.write(self._write, b"!")

    def is_set(self) -> bool:
        """Whether the flag is set."""
        return bool(select.select([self._read], [], [], 0)[0])

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the flag is set or `timeout` seconds pass; True when it is set."""
        return bool(select.select([self._read], [], [], timeout)[0])

    def clear(self) -> None:
        """Not supported: a stop request cannot be taken back."""
        raise NotImplementedError("a stop request cannot be cleared")

    def close(self) -> None:
        """Release the pipe."""
        os.close(self._read)
        os.close(self._write)


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """Within the block, SIGTERM, SIGINT and SIGHUP set the yielded event instead of killing us."""
    stop = SignalEvent()

    def handler(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    watched = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    previous = {sig: signal.signal(sig, handler) for sig in watched}
    try:
        yield stop
        if stop.is_set():
            _logger.info("stop requested by a signal")
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        stop.close()
