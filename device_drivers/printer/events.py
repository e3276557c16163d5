"""Events a printer driver reports to the kiosk and the fleet link, as frozen dataclasses.

They go to one callable sink (`queue.Queue.put` works). They carry status and job outcome
only, never what was printed.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from device_drivers.printer.status import PrinterStatus

__all__ = ["EventSink", "JobOutcome", "PrintJobReported", "PrinterEvent", "PrinterStatusChanged"]


class JobOutcome(enum.StrEnum):
    """How a job ended."""

    PRINTED = "printed"
    NOT_PRINTED = "not_printed"  # nothing was sent: the printer was not ready
    INTERRUPTED = "interrupted"  # part was sent; the slip is incomplete or held: reprint or void


@dataclass(frozen=True)
class PrinterStatusChanged:
    """The printer's status differs from the last one seen."""

    printer: str
    previous: PrinterStatus | None
    current: PrinterStatus
    at: datetime


@dataclass(frozen=True)
class PrintJobReported:
    """A job ended; `problem` is a status code such as ``paper_out`` when it did not print."""

    printer: str
    job_id: str
    kind: str
    outcome: JobOutcome
    problem: str | None
    at: datetime


PrinterEvent = PrinterStatusChanged | PrintJobReported
EventSink = Callable[[PrinterEvent], None]
