"""Auto-halt without an operator watching: `kiosk-central serve` checks the running rollout every 30 s."""

from __future__ import annotations

import logging
import threading

from central_broker.rollout.runner import Rollout, RolloutError

__all__ = ["RolloutWatch"]

_logger = logging.getLogger(__name__)


class RolloutWatch:
    """Calls `Rollout.check()` (which halts a failing rollout) every `interval_s` on a daemon thread."""

    def __init__(self, rollout: Rollout, interval_s: float = 30.0) -> None:
        self._rollout = rollout
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start watching."""
        self._thread = threading.Thread(target=self._run, name="rollout-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self._rollout.check()
            except RolloutError:
                pass  # no rollout yet
            except Exception:
                _logger.exception("rollout check failed")

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
