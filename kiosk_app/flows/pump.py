"""The one event queue between devices and a flow: driver threads put events, the UI loop drains them.

`drain()` runs on the UI (or runner) thread only; it hands every command to the executor, which
starts device work and later puts the result back into the same queue.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable
from typing import Protocol

from kiosk_app.flows.core import Command, Event, Tick

__all__ = ["EventPump", "Flow"]

_logger = logging.getLogger(__name__)


class Flow(Protocol):
    """Anything with `handle(event) -> commands` (the certificate flow, the register flow)."""

    def handle(self, event: Event) -> list[Command]:
        """Process one event."""
        ...


class EventPump:
    """Feeds a flow from a thread-safe queue and passes its commands to `execute`."""

    def __init__(self, flow: Flow, execute: Callable[[Command], None]) -> None:
        self.flow = flow
        self.events: queue.Queue[Event] = queue.Queue()
        self._execute = execute

    def put(self, event: Event) -> None:
        """Queue an event (safe from any thread)."""
        self.events.put(event)

    def drain(self, max_events: int = 100) -> int:
        """Handle queued events (at most `max_events`), then one `Tick`; return how many were handled."""
        handled = 0
        while handled < max_events:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                break
            self._run(event)
            handled += 1
        self._run(Tick())
        return handled

    def _run(self, event: Event) -> None:
        for command in self.flow.handle(event):
            self._execute(command)
