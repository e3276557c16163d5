"""`PrefillSweeper`: deletes prefill data at start-up and then every few minutes (midnight JST, ended visits).

Reads never return expired rows, so the sweep only bounds how long sealed bytes stay on disk.
"""

from __future__ import annotations

import logging
import threading

from central_broker.prefill.store import PrefillStore

__all__ = ["PrefillSweeper"]

_logger = logging.getLogger(__name__)


class PrefillSweeper:
    """Runs `store.sweep()` at `start()` and every `every_s` seconds on its own thread until `stop()`."""

    def __init__(self, store: PrefillStore, every_s: float = 60.0) -> None:
        self.store = store
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Sweep once now (before serving anyone), then in the background."""
        self.store.sweep()
        self._thread = threading.Thread(target=self._run, name="prefill-sweep", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.store.sweep()
            except Exception:  # the next round tries again; reads skip expired rows meanwhile
                _logger.exception("prefill sweep failed")

    def stop(self) -> None:
        """Stop the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
