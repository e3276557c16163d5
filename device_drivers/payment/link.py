"""Link layer: frames with ACK/NAK, retransmission, duplicate detection and the inter-byte timer.

Used by both ends: the kiosk driver and the terminal simulator. Timers run on an injectable clock;
reads are short polls so a partial frame is dropped after T_CHAR by our own timer (pyserial's
`inter_byte_timeout` does nothing for POSIX reads). Raw frames are never logged.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from device_drivers.payment.clock import Clock, Deadline
from device_drivers.payment.codec import Codec, Control, Received, Rejected, Timers
from device_drivers.payment.errors import LinkFailure
from device_drivers.payment.messages import Message, Status

__all__ = ["Link", "LinkStats", "Transport"]

_logger = logging.getLogger(__name__)


class Transport(Protocol):
    """A byte pipe to the other end (a serial port, or the simulator's pty master)."""

    def read(self, max_bytes: int) -> bytes:
        """Bytes available now, waiting at most one short poll; b"" if none."""
        ...

    def write(self, data: bytes) -> None:
        """Write all of `data` (raises `LinkLost` on failure or write time-out)."""
        ...

    def close(self) -> None:
        """Release the port."""
        ...


@dataclass
class LinkStats:
    """Counters for the journal and diagnostics."""

    transmissions: int = 0
    naks_received: int = 0
    ack_timeouts: int = 0
    naks_sent: int = 0
    duplicates: int = 0


class Link:
    """One end of a KPL link over `transport`.

    Args:
        transport: the byte pipe.
        codec: framing and messages.
        clock: monotonic time for T_ACK / T_CHAR.
        timers: overrides the codec's timers.
        drop_ack: test/simulator hook deciding whether to swallow our ACK of a received frame.
    """

    def __init__(
        self,
        transport: Transport,
        codec: Codec,
        clock: Clock,
        timers: Timers | None = None,
        drop_ack: Callable[[Message], bool] | None = None,
    ) -> None:
        self.transport = transport
        self.codec = codec
        self.clock = clock
        self.timers = timers or codec.timers
        self._parser = codec.parser()
        self._seq = 0
        self._inbox: collections.deque[Message] = collections.deque()
        self._last_rx: bytes | None = None
        self._controls: collections.deque[bool] = collections.deque()
        self._drop_ack = drop_ack
        self._last_tx: Message | None = None
        self.stats = LinkStats()
        self.wrote_frame = False  # True once any byte of the current financial frame may have left

    def forget(self) -> None:
        """Clear the duplicate memory (done when a status exchange starts afresh)."""
        self._last_rx = None

    def pending(self) -> list[Message]:
        """Messages received and acknowledged but not yet taken by `receive()`."""
        return list(self._inbox)

    def send(
        self,
        message: Message,
        stop: Callable[[], bool] | None = None,
        write_hook: Callable[[int, bytes], bytes] | None = None,
    ) -> int:
        """Send `message` until ACKed; returns the number of transmissions.

        Raises:
            LinkFailure: NAKed or unanswered `timers.tries` times (bytes were sent).
            LinkLost: the line went away.
        """
        if isinstance(message, Status):
            self.forget()
        self._seq = self.codec.next_seq(self._seq)
        frame = self.codec.encode(self._seq, message)
        self._last_tx = message
        self._controls.clear()
        self.wrote_frame = False
        for attempt in range(1, self.timers.tries + 1):
            if stop is not None and attempt > 1 and stop():
                return attempt - 1
            data = frame if write_hook is None else write_hook(attempt, frame)
            self.wrote_frame = True
            self.stats.transmissions += 1
            if data:
                self.transport.write(data)
            _logger.debug("sent %s seq=%02d try=%d", message.TYPE, self._seq, attempt)
            answer = self._await_control(Deadline(self.clock, self.timers.t_ack))
            if answer is True:
                return attempt
            if answer is False:
                self.stats.naks_received += 1
                _logger.info("%s NAKed (try %d of %d)", message.TYPE, attempt, self.timers.tries)
            else:
                self.stats.ack_timeouts += 1
                _logger.info(
                    "%s not acknowledged in time (try %d of %d)", message.TYPE, attempt, self.timers.tries
                )
        raise LinkFailure(
            f"{message.TYPE} not acknowledged after {self.timers.tries} tries",
            code="payment.link_failure",
        )

    def retransmit_last(self) -> bool | None:
        """Write the last frame again and wait for its ACK (simulator: "the ACK was lost")."""
        frame = self.codec.encode(self._seq, self._last_tx) if self._last_tx is not None else b""
        self._controls.clear()
        self.stats.transmissions += 1
        self.transport.write(frame)
        return self._await_control(Deadline(self.clock, self.timers.t_ack))

    def receive(self, deadline: Deadline | None = None) -> Message | None:
        """The next received message, or None once `deadline` (default: one poll) has passed."""
        while not self._inbox:
            self._poll()
            if self._inbox:
                break
            if deadline is None or deadline.expired():
                return None
        return self._inbox.popleft()

    def _await_control(self, deadline: Deadline) -> bool | None:
        while True:
            if self._controls:
                return self._controls.popleft()
            if deadline.expired():
                return None
            self._poll()

    def _poll(self) -> None:
        data = self.transport.read(4096)
        now = self.clock.monotonic()
        if not data:
            if self._parser.expire(now):
                _logger.info("partial frame dropped after inter-byte gap")
            self.clock.idle(self.timers.poll)
            return
        for event in self._parser.feed(data, now):
            if isinstance(event, Control):
                self._controls.append(event.ack)
            elif isinstance(event, Rejected):
                self.stats.naks_sent += 1
                _logger.info("frame rejected (%s): NAK", event.reason)
                self.transport.write(self.codec.nak)
            else:
                self._accept(event)

    def _accept(self, event: Received) -> None:
        if event.raw == self._last_rx:
            self.stats.duplicates += 1
            _logger.info("duplicate %s seq=%02d: ACK again, not processed", event.message.TYPE, event.seq)
            self.transport.write(self.codec.ack)
            return
        self._last_rx = event.raw
        if isinstance(event.message, Status):
            self._last_rx = None  # STS clears the duplicate memory
        if self._drop_ack is not None and self._drop_ack(event.message):
            _logger.info("ACK of %s withheld (scripted)", event.message.TYPE)
        else:
            self.transport.write(self.codec.ack)
        _logger.debug("received %s seq=%02d", event.message.TYPE, event.seq)
        self._inbox.append(event.message)
