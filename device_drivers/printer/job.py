"""The receipt printer driver: health check before every job, segment-wise sending, failure detection.

Before a job the status is read (DLE EOT 1, 2, 4 and 3 when needed). Between segments it is
read again; after the cut, GS r 1 (processed in order with the data) must be answered, which
a printer that is out of paper, open or offline does not do. "Written" is not "printed".
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from device_drivers.printer.encoder import ASB_OFF, EncodedJob
from device_drivers.printer.errors import PrinterOffline, PrintJobFailed
from device_drivers.printer.events import EventSink, JobOutcome, PrinterStatusChanged, PrintJobReported
from device_drivers.printer.status import UNREACHABLE, PrinterStatus, decode_status, dle_eot
from device_drivers.printer.transport import Transport, open_transport

__all__ = ["JobResult", "ReceiptPrinter"]

_logger = logging.getLogger(__name__)

GS_R_PAPER = b"\x1d\x72\x01"


@dataclass(frozen=True)
class JobResult:
    """The outcome of one job, with enough detail to reprint or void it."""

    job_id: str
    kind: str
    outcome: JobOutcome
    segments_sent: int
    segments_total: int
    bytes_sent: int
    status: PrinterStatus
    problem: str | None = None


class ReceiptPrinter:
    """One ESC/POS printer reached through a URL; thread-safe, one job at a time.

    Args:
        url: receipt printer URL (``escpos+tcp://...``, ``emulated://printer?...``).
        name: role name used in events (e.g. ``receipt``).
        on_event: sink for status changes and job reports.
        timeout: seconds to wait for each status reply.
        done_timeout: seconds to wait for the printer to finish a job (GS r 1 reply).
        opener: transport factory (tests may pass one; default: from the URL).
    """

    def __init__(
        self,
        url: str,
        *,
        name: str = "receipt",
        on_event: EventSink | None = None,
        timeout: float = 1.0,
        done_timeout: float = 10.0,
        opener: Callable[[str, float], Transport] = open_transport,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.url = url
        self.name = name
        self._on_event = on_event
        self._timeout = timeout
        self._done_timeout = done_timeout
        self._opener = opener
        self._clock = clock
        self._transport: Transport | None = None
        self._last: PrinterStatus | None = None
        self._lock = threading.RLock()

    def _link(self) -> Transport:
        if self._transport is None:
            self._transport = self._opener(self.url, self._timeout)
            # Automatic status back off, so unsolicited packets never pass for replies.
            self._transport.write(ASB_OFF)
            self._transport.drain()
        return self._transport

    def _drop_link(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def close(self) -> None:
        """Close the link to the printer."""
        with self._lock:
            self._drop_link()

    def _query(self, transport: Transport, n: int) -> int | None:
        transport.write(dle_eot(n))
        reply = transport.read(1, self._timeout)
        return reply[0] if reply else None

    def status(self) -> PrinterStatus:
        """Read the printer's status now; report a change as an event. Never raises for a dead printer."""
        with self._lock:
            try:
                transport = self._link()
                transport.drain()
                replies: dict[int, int | None] = {n: self._query(transport, n) for n in (1, 2, 4)}
                if replies[2] is not None and replies[2] & 0x40:
                    replies[3] = self._query(transport, 3)
                current = decode_status(replies)
            except PrinterOffline as exc:
                _logger.info("printer %s unreachable: %s", self.name, exc.detail)
                self._drop_link()
                current = UNREACHABLE
            if current == UNREACHABLE:
                self._drop_link()
            self._note(current)
            return current

    def _note(self, current: PrinterStatus) -> None:
        if current != self._last:
            _logger.info("printer %s status: %s", self.name, ", ".join(current.problems) or "ready")
            previous, self._last = self._last, current
            self._emit(PrinterStatusChanged(self.name, previous, current, self._clock()))

    def _emit(self, event: PrintJobReported | PrinterStatusChanged) -> None:
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:
                _logger.exception("printer event sink failed")

    def print_job(self, job: EncodedJob, job_id: str) -> JobResult:
        """Print `job`; return its result when printed, raise `PrintJobFailed` otherwise."""
        with self._lock:
            result = self._run(job, job_id)
            self._emit(
                PrintJobReported(self.name, job_id, job.kind, result.outcome, result.problem, self._clock())
            )
            if result.outcome is not JobOutcome.PRINTED:
                _logger.warning(
                    "job %s (%s) %s: %s after %d/%d segments",
                    job_id, job.kind, result.outcome.value, result.problem, result.segments_sent, result.segments_total,
                )  # fmt: skip
                raise PrintJobFailed(result)
            return result

    def _run(self, job: EncodedJob, job_id: str) -> JobResult:
        total = len(job.segments)
        before = self.status()
        if not before.ready:
            return JobResult(
                job_id, job.kind, JobOutcome.NOT_PRINTED, 0, total, 0, before, before.problems[0]
            )
        sent_bytes = 0
        transport = self._link()
        for index, segment in enumerate(job.segments):
            try:
                transport.write(segment)
            except PrinterOffline:
                self._drop_link()
                self._note(UNREACHABLE)
                return JobResult(
                    job_id, job.kind, JobOutcome.INTERRUPTED, index, total, sent_bytes, UNREACHABLE, "offline"
                )
            sent_bytes += len(segment)
            now = self.status()
            if not now.ready:
                return JobResult(
                    job_id,
                    job.kind,
                    JobOutcome.INTERRUPTED,
                    index + 1,
                    total,
                    sent_bytes,
                    now,
                    now.problems[0],
                )
            transport = self._link()
        return self._confirm(job, job_id, transport, sent_bytes)

    def _confirm(self, job: EncodedJob, job_id: str, transport: Transport, sent_bytes: int) -> JobResult:
        total = len(job.segments)
        try:
            transport.write(GS_R_PAPER)
            done = transport.read(1, self._done_timeout)
        except PrinterOffline:
            done = b""
        after = self.status()
        if not done or not after.ready:
            problem = after.problems[0] if after.problems else "not_confirmed"
            return JobResult(
                job_id, job.kind, JobOutcome.INTERRUPTED, total, total, sent_bytes, after, problem
            )
        return JobResult(job_id, job.kind, JobOutcome.PRINTED, total, total, sent_bytes, after)
