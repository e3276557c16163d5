"""The APDU channel: one place that sends, logs (DEBUG, redacted) and counts every exchange.

A `Transport` moves raw bytes to one card (PC/SC or in-process emulator); `CardChannel` turns
them into `ResponseApdu`s, keeps `ApduStats` for benchmarks and diagnostics, and sends PIN
bearing commands from a wipeable buffer without logging their data.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Protocol

from device_drivers.card.apdu import CommandApdu, ResponseApdu, parse_response
from device_drivers.card.pin import Pin, wipe

__all__ = ["ApduStats", "CardChannel", "Transport"]

_logger = logging.getLogger(__name__)


class Transport(Protocol):
    """Raw byte exchange with one card."""

    @property
    def name(self) -> str:
        """Reader name (or emulator name) for logs and diagnostics."""
        ...

    @property
    def extended_length(self) -> bool:
        """True when the reader passes extended-length APDUs."""
        ...

    def transmit(self, apdu: bytes | bytearray) -> bytes:
        """Send one command APDU and return the raw response (data + SW)."""
        ...

    def close(self) -> None:
        """Reset the card (drop verified PINs) and release the reader."""
        ...


@dataclass
class ApduStats:
    """Counters of one channel: APDUs, bytes each way and time spent waiting for the card."""

    apdus: int = 0
    bytes_out: int = 0
    bytes_in: int = 0
    seconds: float = 0.0
    commands: list[str] = field(default_factory=list)

    def reset(self) -> None:
        """Start counting again."""
        self.apdus = self.bytes_out = self.bytes_in = 0
        self.seconds = 0.0
        self.commands.clear()


class CardChannel:
    """Send APDUs over a transport with DEBUG logging (VERIFY data redacted) and statistics."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.stats = ApduStats()

    @property
    def extended_length(self) -> bool:
        """Whether extended-length APDUs may be used."""
        return self.transport.extended_length

    def send(self, command: CommandApdu) -> ResponseApdu:
        """Send `command`, log it safely and return the parsed response."""
        raw = command.to_bytes()
        return self._exchange(raw, command.describe())

    def send_pin(self, header: bytes, pin: Pin) -> ResponseApdu:
        """Send `header` + Lc + PIN from a wipeable buffer; the PIN is never logged."""
        apdu = pin.apdu_with(header)
        try:
            return self._exchange(apdu, f"{header.hex(' ').upper()} Lc={len(pin)} <redacted>")
        finally:
            wipe(apdu)

    def _exchange(self, raw: bytes | bytearray, description: str) -> ResponseApdu:
        _logger.debug("card %s > %s", self.transport.name, description)
        started = time.perf_counter()
        answer = self.transport.transmit(raw)
        self.stats.seconds += time.perf_counter() - started
        self.stats.apdus += 1
        self.stats.bytes_out += len(raw)
        self.stats.bytes_in += len(answer)
        self.stats.commands.append(description)
        response = parse_response(answer)
        _logger.debug("card %s < %s", self.transport.name, response.describe())
        return response
