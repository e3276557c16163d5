"""Printer status from DLE EOT 1-4 real-time replies, decoded into a frozen `PrinterStatus`.

A reply byte is valid when it matches 0xx1xx10. No answer (or an invalid one) means the
printer is unreachable: never "OK".
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "UNREACHABLE",
    "Health",
    "PaperLevel",
    "PrinterStatus",
    "decode_status",
    "dle_eot",
    "is_status_byte",
]


class PaperLevel(enum.StrEnum):
    """Paper roll level."""

    OK = "ok"
    NEAR_END = "near-end"
    OUT = "out"
    UNKNOWN = "unknown"


class Health(enum.StrEnum):
    """Summary for the kiosk and the fleet link."""

    OK = "ok"
    WARNING = "warning"  # prints, but staff should act soon (paper near end)
    ERROR = "error"  # cannot print: staff must act


def dle_eot(n: int) -> bytes:
    """The real-time status request DLE EOT n (n = 1..4)."""
    return bytes([0x10, 0x04, n])


def is_status_byte(value: int) -> bool:
    """True when `value` has the fixed bits of a real-time status reply (0xx1xx10)."""
    return value & 0b1001_0011 == 0b0001_0010


@dataclass(frozen=True)
class PrinterStatus:
    """What the printer said about itself (all False/UNKNOWN when it did not answer)."""

    reachable: bool
    online: bool = False
    cover_open: bool = False
    paper: PaperLevel = PaperLevel.UNKNOWN
    paper_feed_stop: bool = False
    cutter_error: bool = False
    recoverable_error: bool = False
    unrecoverable_error: bool = False
    auto_recoverable_error: bool = False
    error: bool = False

    @property
    def problems(self) -> tuple[str, ...]:
        """Stable problem codes, most important first (empty when ready and paper is fine)."""
        if not self.reachable:
            return ("offline",)
        found = []
        if self.unrecoverable_error:
            found.append("unrecoverable_error")
        if self.cutter_error:
            found.append("cutter_error")
        if self.cover_open:
            found.append("cover_open")
        if self.paper is PaperLevel.OUT:
            found.append("paper_out")
        if self.recoverable_error:
            found.append("recoverable_error")
        if self.auto_recoverable_error:
            found.append("auto_recoverable_error")
        if self.error and not found:
            found.append("error")
        if not self.online and not found:
            found.append("offline")
        if self.paper is PaperLevel.NEAR_END:
            found.append("paper_near_end")
        return tuple(found)

    @property
    def ready(self) -> bool:
        """The printer can take a job now (near-end paper still prints)."""
        return self.reachable and self.online and all(p == "paper_near_end" for p in self.problems)

    @property
    def health(self) -> Health:
        """OK, WARNING (near end) or ERROR (cannot print)."""
        if not self.ready:
            return Health.ERROR
        return Health.WARNING if self.problems else Health.OK


UNREACHABLE = PrinterStatus(reachable=False)


def decode_status(replies: Mapping[int, int | None]) -> PrinterStatus:
    """Decode DLE EOT replies keyed by n (1, 2, 4 required; 3 when 2 reported an error)."""
    first, second, paper = replies.get(1), replies.get(2), replies.get(4)
    if any(b is None or not is_status_byte(b) for b in (first, second, paper)):
        return UNREACHABLE
    assert first is not None and second is not None and paper is not None
    third = replies.get(3)
    errors = third if third is not None and is_status_byte(third) else 0
    if paper & 0x60:
        level = PaperLevel.OUT
    elif paper & 0x0C:
        level = PaperLevel.NEAR_END
    else:
        level = PaperLevel.OK
    return PrinterStatus(
        reachable=True,
        online=not first & 0x08,
        cover_open=bool(second & 0x04),
        paper=level,
        paper_feed_stop=bool(second & 0x20),
        error=bool(second & 0x40),
        cutter_error=bool(errors & 0x08),
        recoverable_error=bool(errors & 0x04),
        unrecoverable_error=bool(errors & 0x20),
        auto_recoverable_error=bool(errors & 0x40),
    )
