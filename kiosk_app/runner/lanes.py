"""A lane: one worker thread running jobs in order, so device I/O never blocks the UI loop.

The runner has two lanes: one for the card, the central and the printers (in the order the flow asked),
one for the payment terminal (so "abort" can reach the terminal while a sale is running).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

__all__ = ["Lane"]

_logger = logging.getLogger(__name__)

Job = Callable[[], None]


class Lane:
    """A named worker thread with a FIFO of jobs; a job that raises is logged and the lane goes on."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._idle = threading.Event()
        self._idle.set()

    def start(self) -> None:
        """Start the worker thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"runner-{self.name}", daemon=True)
            self._thread.start()

    def submit(self, job: Job) -> None:
        """Run `job` after the jobs already queued."""
        self._idle.clear()
        self._jobs.put(job)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every queued job has run (tests, shutdown)."""
        return self._idle.wait(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the queued jobs, then stop."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                job()
            except Exception:
                _logger.exception("runner lane %s: a job failed", self.name)
            finally:
                if self._jobs.empty():
                    self._idle.set()
