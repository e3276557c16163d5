"""The swappable codec interface: framing plus message encoding for one terminal protocol.

Kiosk Payment Link v1 (`kpl.KplCodec`) is one codec; a vendor protocol is another class with the
same shape. The link layer only uses this interface, so it never knows the byte layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from device_drivers.payment.messages import Message

__all__ = ["Codec", "Control", "FrameParser", "LineSettings", "ParseEvent", "Received", "Rejected", "Timers"]


@dataclass(frozen=True)
class LineSettings:
    """Serial line settings of a codec (all configurable from the device URL)."""

    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: int = 1


@dataclass(frozen=True)
class Timers:
    """Link and transaction timers in seconds (KPL v1 §2.3 values by default)."""

    t_ack: float = 3.0
    tries: int = 3
    t_char: float = 0.2
    t_result: float = 180.0
    t_reply: float = 5.0
    inquiry_interval: float = 5.0
    recovery_budget: float = 600.0
    reopen_interval: float = 1.0
    poll: float = 0.01


@dataclass(frozen=True)
class Received:
    """A valid frame carrying a known message. `raw` is for duplicate detection only; never log it."""

    seq: int
    message: Message
    raw: bytes


@dataclass(frozen=True)
class Rejected:
    """A frame that must be answered with NAK; `reason` is a short fixed text (no frame bytes)."""

    reason: str


@dataclass(frozen=True)
class Control:
    """A single ACK or NAK byte seen between frames."""

    ack: bool


ParseEvent = Received | Rejected | Control


class FrameParser(Protocol):
    """Incremental parser: any chunking of the same bytes yields the same events; never raises."""

    def feed(self, data: bytes, now: float) -> list[ParseEvent]:
        """Add bytes received at monotonic time `now`; return the events they complete."""
        ...

    def expire(self, now: float) -> bool:
        """Drop a partial frame whose last byte is older than the inter-byte timer; True if dropped."""
        ...


class Codec(Protocol):
    """Framing, checksum and message encoding of one terminal protocol."""

    @property
    def name(self) -> str:
        """Short codec name, e.g. ``kpl1``."""
        ...

    @property
    def ack(self) -> bytes:
        """The ACK byte(s)."""
        ...

    @property
    def nak(self) -> bytes:
        """The NAK byte(s)."""
        ...

    @property
    def line(self) -> LineSettings:
        """Default line settings."""
        ...

    @property
    def timers(self) -> Timers:
        """Default timers."""
        ...

    def encode(self, seq: int, message: Message) -> bytes:
        """The complete frame for `message` with sequence number `seq`."""
        ...

    def next_seq(self, seq: int) -> int:
        """The sequence number after `seq`."""
        ...

    def parser(self) -> FrameParser:
        """A fresh incremental parser for received bytes."""
        ...
