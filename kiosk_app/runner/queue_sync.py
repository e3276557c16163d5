"""Keeps the offline journal in step with the central: fetch the block once, hand over offline tickets.

`sync_once()` asks for the kiosk's block while it has none, then submits every unmerged offline ticket
with `queue.merge` (oldest first, in batches) and applies each outcome (`QueueJournal.settle`). The thread
runs it every `retry_s` and at once after `wake()` (the runner wakes it when the central answered a take:
the link is back). Resubmitting is harmless: the central answers `duplicate` for a ticket it has.
While today has tickets the central rejected, a retained fleet alert (`queue-offline-rejected`, warning)
names them (numbers and reasons only); the central lists them on the branch's counter page too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from kiosk_app.queue_client import QueueClient, QueueRefused
from kiosk_app.rpc_client import RpcCallError, RpcTimeout
from kiosk_app.runner.queue_journal import QueueJournal
from madoguchi.contracts.messages import Severity

__all__ = ["REJECTED_ALERT", "Alerts", "QueueSync"]

_logger = logging.getLogger(__name__)

REJECTED_ALERT = "queue-offline-rejected"  # retained up/alert id while today has rejected offline tickets


class Alerts(Protocol):
    """The fleet agent's alerts as the sync uses them (`FleetAgent.raise_alert` / `clear_alert`)."""

    def raise_alert(self, alert_id: str, code: str, severity: Severity, detail: str = "") -> None:
        """Raise or update a retained alert."""

    def clear_alert(self, alert_id: str) -> None:
        """Clear it."""


class QueueSync:
    """The block fetch and offline-ticket merge loop (a thread once `start()`ed)."""

    def __init__(
        self,
        journal: QueueJournal,
        client: QueueClient,
        *,
        retry_s: float = 30.0,
        link_up: Callable[[], bool] = lambda: True,
        alerts: Alerts | None = None,
    ) -> None:
        self.journal = journal
        self.client = client
        self.alerts = alerts
        self.retry_s = retry_s
        self.link_up = link_up
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._running = threading.Lock()
        self._thread: threading.Thread | None = None

    def fetch_block(self) -> bool:
        """Ask for the block when the journal has none; True when the kiosk has one."""
        if self.journal.block() is not None:
            return True
        try:
            block = self.client.block()
        except (RpcTimeout, RpcCallError, QueueRefused) as exc:
            _logger.info("no offline block yet: %s", exc)
            return False
        self.journal.set_block(block)
        _logger.info("offline block %d (numbers %d…%d per prefix)", block.block, block.first, block.last)
        return True

    def merge(self) -> bool:
        """Submit unmerged offline tickets; True when none is left to submit."""
        for batch in self.journal.batches():
            try:
                view = self.client.merge(batch)
            except (RpcTimeout, RpcCallError, QueueRefused) as exc:
                _logger.warning("%d offline ticket(s) wait for the central: %s", len(batch), exc)
                return False
            removed = self.journal.settle(batch, view.results)
            _logger.info("offline tickets: %d of %d settled by the central", removed, len(batch))
        self.report_rejected()
        return not self.journal.unmerged()

    def report_rejected(self) -> None:
        """A fleet alert while today has offline tickets the central rejected (cleared once none is left)."""
        if self.alerts is None:
            return
        rejected = self.journal.rejected(self.journal.today())
        if not rejected:
            self.alerts.clear_alert(REJECTED_ALERT)
            return
        listed = ", ".join(f"{number} ({reason})" for number, reason in rejected)
        detail = (
            f"{len(rejected)} offline ticket(s) refused by the central: {listed}; "
            "the branch's counter page lists them, serve those residents by hand"
        )
        self.alerts.raise_alert(REJECTED_ALERT, "queue_offline_rejected", Severity.WARNING, detail[:500])

    def sync_once(self) -> bool:
        """Block, then merge (one at a time); True when the journal is settled."""
        with self._running:
            self.fetch_block()
            return self.merge()

    def wake(self) -> None:
        """Sync now (e.g. the central answered again)."""
        self._wake.set()

    def start(self) -> None:
        """Sync now and every `retry_s` in a thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="queue-sync", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.link_up():
                try:
                    self.sync_once()
                except Exception:
                    _logger.exception("queue sync failed")
            self._wake.wait(self.retry_s)
            self._wake.clear()

    def stop(self) -> None:
        """Stop the thread (the journal keeps what is unmerged for the next start)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
