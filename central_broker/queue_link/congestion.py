"""The 混雑 lamps on the kiosks: a retained `CongestionView` per kiosk on `kiosk/v1/d/{dev}/down/queue` (QoS 1).

The view also carries the queue's opening time (`[queue] opening_time`, 00:00 with `always_open`): the
kiosks number their offline tickets by the central's business day, not by their own configuration.

Published as the catalog service (svc-catalog may write `d/+/down/queue`, docs/fleet-link.md). A worker
thread publishes a branch's view to every kiosk of that branch (their branch in the central store)

- right after a `queue.take` or `queue.merge` (`notify(branch)`),
- when the queue journal (`queue_event`) has new entries for the branch — staff calls, done, no-shows,
  categories closed, written by any process — checked every `poll_s`; a kiosk is only sent the view when
  its lamps, counts, ranges or closed flags differ from what it was last sent,
- to a kiosk it has not sent anything yet (a new birth),
- and to every kiosk at least every `every_s` (60 s) and after each reconnect to the broker, so `at`
  stays fresh and a broker that lost its retained messages gets them back.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

from sqlalchemy import func, select

from central_broker.queue import QueueService
from central_broker.queue.days import is_within_hours
from central_broker.queue.schema import queue_event
from central_broker.queue_link.branches import BranchResolver
from central_broker.queue_link.views import congestion_view
from central_broker.store.models import DeviceStatus
from central_broker.store.schema import kiosk_state
from madoguchi.config.broker import BrokerConfig
from madoguchi.contracts.queue import CongestionView
from madoguchi.contracts.topics import Down, down
from madoguchi.mqtt_client import make_client, reason_text

__all__ = ["CongestionPublisher"]

_logger = logging.getLogger(__name__)


def _content(view: CongestionView) -> bytes:
    """What decides whether a kiosk needs the view again (everything but `at`)."""
    return view.model_copy(update={"at": 0}).to_bytes()


class CongestionPublisher:
    """Keeps every kiosk's retained `down/queue` current.

    Args:
        broker: the catalog service's connection.
        queue: the queue core (congestion, closed categories, hours).
        resolver: which branches issue numbers.
        every_s: re-publish everything at least this often.
        poll_s: how often the journal is checked for changes made elsewhere.
    """

    def __init__(
        self,
        broker: BrokerConfig,
        queue: QueueService,
        resolver: BranchResolver,
        *,
        every_s: float = 60.0,
        poll_s: float = 2.0,
    ) -> None:
        self.broker = broker
        self.queue = queue
        self.resolver = resolver
        self.every_s = every_s
        self.poll_s = poll_s
        self.client_id = f"svc-catalog-queue-{uuid.uuid4().hex[:8]}"
        self._client = make_client(self.client_id, broker)
        self._client.on_connect = self._on_connect
        self._lock = threading.Lock()
        self._dirty: set[str] = set()
        self._all_due = True
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_event = 0
        self._sent: dict[str, bytes] = {}  # device → content last sent
        self.published = 0  # messages published (tests and status)

    # --- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background and start the worker."""
        self._last_event = self._max_event()
        self._client.reconnect_delay_set(min_delay=1, max_delay=10)
        self._client.connect_async(self.broker.host, self.broker.port, keepalive=self.broker.keepalive)
        self._client.loop_start()
        self._thread = threading.Thread(target=self._run, name="queue-congestion", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the worker and disconnect (the retained views stay on the broker)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._client.disconnect()
        self._client.loop_stop()

    def notify(self, branch: str) -> None:
        """A take or merge changed `branch`'s lines: publish its view now."""
        with self._lock:
            self._dirty.add(branch)
        self._wake.set()

    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if getattr(reason, "is_failure", False):
            _logger.error("queue congestion publisher: connection refused: %s", reason_text(reason))
            return
        with self._lock:
            self._all_due = True  # the broker may have lost the retained views
        self._connected.set()
        self._wake.set()

    # --- worker --------------------------------------------------------------------------------------

    def _run(self) -> None:
        next_all = time.monotonic()
        while not self._stop.is_set():
            self._wake.wait(max(0.0, min(self.poll_s, next_all - time.monotonic())))
            self._wake.clear()
            if self._stop.is_set():
                return
            if not self._connected.is_set():
                self._connected.wait(self.poll_s)
                continue
            if time.monotonic() >= next_all:
                with self._lock:
                    self._all_due = True
            try:
                if self._cycle():
                    next_all = time.monotonic() + self.every_s
            except Exception:
                _logger.exception("queue congestion publisher: a pass failed; retrying")
                self._stop.wait(self.poll_s)

    def _max_event(self) -> int:
        with self.queue.engine.connect() as conn:
            return int(conn.execute(select(func.max(queue_event.c.id))).scalar() or 0)

    def _changed_branches(self) -> set[str]:
        with self.queue.engine.connect() as conn:
            rows = conn.execute(
                select(queue_event.c.branch, func.max(queue_event.c.id))
                .where(queue_event.c.id > self._last_event)
                .group_by(queue_event.c.branch)
            ).all()
        if rows:
            self._last_event = max(self._last_event, *(int(r[1]) for r in rows))
        return {r[0] for r in rows}

    def _kiosks(self) -> dict[str, list[str]]:
        """Branch → device ids of the kiosks there (revoked ones left out), branches that issue numbers."""
        with self.queue.engine.connect() as conn:
            rows = conn.execute(
                select(kiosk_state.c.device_id, kiosk_state.c.branch).where(
                    kiosk_state.c.branch.is_not(None) & (kiosk_state.c.status != DeviceStatus.REVOKED.value)
                )
            ).all()
        out: dict[str, list[str]] = {}
        for device_id, branch in rows:
            if self.resolver.serves(branch):
                out.setdefault(branch, []).append(device_id)
        return out

    def view(self, branch: str) -> CongestionView:
        """The current view of `branch`."""
        q = self.queue
        now = q.now_ms()
        closed = {c.id for c in q.catalog.queue.categories if q.category_closed(branch, c.id)}
        issuing = is_within_hours(now, q.config.opening_time, q.config.closing_time)
        return congestion_view(
            branch, now, q.congestion(branch), closed, issuing=issuing, opening_time=q.config.opening_time
        )

    def _cycle(self) -> bool:
        """One pass; True when it was a full one (every kiosk sent its view)."""
        with self._lock:
            full, self._all_due = self._all_due, False
            dirty, self._dirty = self._dirty, set()
        dirty |= self._changed_branches()
        kiosks = self._kiosks()
        for branch, devices in kiosks.items():
            fresh = [d for d in devices if d not in self._sent]
            if not (full or branch in dirty or fresh):
                continue
            view = self.view(branch)
            payload, content = view.to_bytes(), _content(view)
            for device_id in devices:
                if full or self._sent.get(device_id) != content:
                    self._publish(device_id, payload)
                    self._sent[device_id] = content
        return full

    def _publish(self, device_id: str, payload: bytes) -> None:
        info = self._client.publish(down(device_id, Down.QUEUE), payload, qos=1, retain=True)
        if info.rc != 0:
            _logger.warning(
                "queue lamps for %s not sent now (rc %d); the next pass sends them", device_id, info.rc
            )
            self._sent.pop(device_id, None)
            return
        self.published += 1
