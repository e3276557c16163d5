"""Printer errors: every problem a receipt or A4 printer can have, under `PrinterError`.

Each error has a stable `code` (logs, events, fleet link) and a `message_key` the kiosk app
translates. None of them carries ticket, receipt or certificate contents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from device_drivers.errors import DeviceUnavailable, PrinterError

if TYPE_CHECKING:
    from device_drivers.printer.job import JobResult

__all__ = [
    "GlyphMissing",
    "PrintJobFailed",
    "PrinterConfigError",
    "PrinterNotReady",
    "PrinterOffline",
]


class PrinterOffline(DeviceUnavailable):
    """The printer does not answer (unplugged, powered off, wrong address)."""

    code = "printer.offline"
    message_key = "printer_offline"


class PrinterNotReady(PrinterError):
    """The printer answers but cannot print now (paper out, cover open, cutter error...)."""

    code = "printer.not_ready"
    message_key = "printer_not_ready"


class PrinterConfigError(PrinterError):
    """The printer URL, profile or font set-up cannot be used; the detail says what to fix."""

    code = "printer.config"
    message_key = "printer_error"


class GlyphMissing(PrinterError):
    """A character cannot be drawn with any installed font; issuing would drop it."""

    code = "printer.glyph_missing"
    message_key = "printer_glyph_missing"

    def __init__(self, codepoints: tuple[int, ...]) -> None:
        # Code points only (U+XXXX), never the surrounding text, which may be personal data.
        listed = ", ".join(f"U+{cp:04X}" for cp in codepoints)
        super().__init__(f"no installed font has {listed}; install fonts-noto-cjk or fonts-ipamj-mincho")
        self.codepoints = codepoints


class PrintJobFailed(PrinterError):
    """A print job did not complete; `result` says how far it got so the kiosk can reprint or void."""

    code = "printer.job_failed"
    message_key = "printer_job_failed"

    def __init__(self, result: JobResult) -> None:
        super().__init__(
            f"job {result.job_id} {result.outcome.value}: {result.problem or 'unknown'} "
            f"after {result.segments_sent}/{result.segments_total} segments",
            code=f"printer.{result.problem or 'job_failed'}",
        )
        self.result = result
