"""Drains the statistics outbox to the centre: one QoS 1 batch in flight (contract §4).

Rules: send only while connected AND the centre's `fleet/host/state` says online (absent =
offline); wait a random 0–30 s after each connect before the first batch (spreads a fleet's
reconnect storm); oldest rows first; at most one batch in flight; a `down/ack` deletes rows ≤
`through_seq` and lets the next batch go; no ack within 60 s, or a reconnect, sends again from
the oldest unacknowledged row. Rows are never deleted on PUBACK. The clock and the random delay
are injectable so tests can move time.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from kiosk_app.agent.outbox import Outbox

__all__ = ["InFlight", "StatsSender", "random_start_delay"]

_logger = logging.getLogger(__name__)

Publish = Callable[[bytes], bool]  # publish one up/stats payload (QoS 1); False if not handed to paho


def random_start_delay() -> float:
    """Random 0–30 s pause before draining after a connect (contract §4.5)."""
    return random.uniform(0.0, 30.0)  # noqa: S311 - jitter, not cryptography


@dataclass(frozen=True)
class InFlight:
    """The batch waiting for its `down/ack`."""

    first_seq: int
    last_seq: int
    sent_at: float


class StatsSender:
    """Paces the outbox onto `up/stats`. Call `pump()` often (the agent's tick); it is cheap.

    Args:
        outbox: the durable queue.
        publish: sends one batch payload with QoS 1.
        clock: monotonic seconds.
        start_delay: seconds to wait after each connect before the first batch.
        resend_after_s: resend when no `down/ack` came this long after sending.
        min_interval_s: least time between two batches (rate limit).
    """

    def __init__(
        self,
        outbox: Outbox,
        publish: Publish,
        *,
        clock: Callable[[], float] = time.monotonic,
        start_delay: Callable[[], float] = random_start_delay,
        resend_after_s: float = 60.0,
        min_interval_s: float = 0.05,
    ) -> None:
        self.outbox = outbox
        self._publish = publish
        self._clock = clock
        self._start_delay = start_delay
        self.resend_after_s = resend_after_s
        self.min_interval_s = min_interval_s
        self._lock = threading.Lock()
        self._connected = False
        self._host_online = False
        self._start_at = float("inf")
        self._in_flight: InFlight | None = None
        self._last_sent = float("-inf")
        self.batches_sent = 0
        self.resends = 0

    @property
    def in_flight(self) -> InFlight | None:
        """The batch awaiting acknowledgement, if any."""
        return self._in_flight

    @property
    def draining(self) -> bool:
        """Whether batches may go now (connected, centre online, start delay over)."""
        return self._connected and self._host_online and self._clock() >= self._start_at

    def on_connect(self) -> None:
        """A new connection: forget what was in flight (it is resent) and wait the start delay."""
        with self._lock:
            self._connected = True
            self._in_flight = None
            self._start_at = self._clock() + max(0.0, self._start_delay())
        self.pump()

    def drain_now(self) -> None:
        """Skip the remaining start delay (the `flush` command) and send the next batch if allowed."""
        with self._lock:
            self._start_at = min(self._start_at, self._clock())
        self.pump()

    def on_disconnect(self) -> None:
        """Connection lost: nothing is in flight any more."""
        with self._lock:
            self._connected = False
            self._in_flight = None

    def on_host_state(self, online: bool) -> None:
        """The centre's ingest announced itself online or offline."""
        with self._lock:
            changed = online != self._host_online
            self._host_online = online
        if changed:
            _logger.info("central ingest is %s; outbox %s", "online" if online else "offline",
                         "draining" if online else "paused")  # fmt: skip
        self.pump()

    def on_ack(self, through_seq: int) -> None:
        """The centre committed every row ≤ `through_seq`: delete them and send the next batch."""
        deleted = self.outbox.ack(through_seq)
        with self._lock:
            flight = self._in_flight
            if flight is not None and through_seq >= flight.last_seq:
                self._in_flight = None
        _logger.debug("down/ack through %d: %d rows deleted", through_seq, deleted)
        self.pump()

    def pump(self) -> None:
        """Send the next batch if allowed, or resend one whose ack is overdue."""
        with self._lock:
            now = self._clock()
            if not (self._connected and self._host_online and now >= self._start_at):
                return
            flight = self._in_flight
            if flight is not None:
                if now - flight.sent_at < self.resend_after_s:
                    return
                _logger.warning("no down/ack for [%d, %d] in %.0f s; resending",
                                flight.first_seq, flight.last_seq, self.resend_after_s)  # fmt: skip
                self.resends += 1
            elif now - self._last_sent < self.min_interval_s:
                return
            batch = self.outbox.next_batch()
            if batch is None:
                self._in_flight = None
                return
            if not self._publish(batch.to_bytes()):
                return
            self._in_flight = InFlight(batch.batch[0], batch.batch[1], now)
            self._last_sent = now
            self.batches_sent += 1
