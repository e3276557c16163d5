"""The retained 混雑 lamps of the kiosk's branch (`down/queue`, `CongestionView`), kept and passed on.

A fleet-agent downlink handler: the newest view (by `at`) wins; each new view goes to the listeners (the
runner posts it to the controller as `CongestionChanged`). An empty retained message clears the view.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from madoguchi.contracts.base import ContractError
from madoguchi.contracts.queue import CategoryLamp, CongestionView
from madoguchi.contracts.topics import Down, down

__all__ = ["QueueLamps"]

_logger = logging.getLogger(__name__)


class QueueLamps:
    """The latest `CongestionView` for one kiosk."""

    def __init__(self, device_id: str) -> None:
        self.topic = down(device_id, Down.QUEUE)
        self._lock = threading.Lock()
        self._view: CongestionView | None = None
        self._listeners: list[Callable[[CongestionView | None], None]] = []

    @property
    def view(self) -> CongestionView | None:
        """The newest view (None before the first)."""
        with self._lock:
            return self._view

    def lamp(self, category: str) -> CategoryLamp | None:
        """The lamp of one category, if the central sent one."""
        view = self.view
        if view is None:
            return None
        return next((lamp for lamp in view.categories if lamp.category == category), None)

    def add_listener(self, listener: Callable[[CongestionView | None], None]) -> None:
        """Call `listener` with every new view (and now, with the current one)."""
        self._listeners.append(listener)
        listener(self.view)

    def handle(self, topic: str, payload: bytes) -> bool:
        """A downlink message (fleet agent); False when it is not `down/queue`."""
        if topic != self.topic:
            return False
        view: CongestionView | None = None
        if payload:
            try:
                view = CongestionView.model_validate_json(payload)
            except (ValueError, ContractError):
                _logger.warning("malformed congestion view on %s ignored", topic)
                return True
        with self._lock:
            if view is not None and self._view is not None and view.at < self._view.at:
                return True  # an older view arrived late
            self._view = view
        for listener in list(self._listeners):
            listener(view)
        return True
