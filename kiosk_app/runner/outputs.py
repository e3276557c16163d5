"""What the kiosk prints on: the A4 printer (certificates) and the receipt printer (receipts, 未交付 slips).

`CupsA4` submits to a CUPS queue (`cups://QUEUE?server=HOST:PORT`) and waits for the job to end;
`FolderA4` is the simulated A4 printer of `emulated://a4?out=DIR`: each job is written to DIR as a PDF
(and a PNG of its first page when `pdftoppm` is installed), so a person can look at what was printed.
`ReceiptOutput` encodes documents as ESC/POS for the receipt printer's profile.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Protocol

from device_drivers.printer import encode_job
from device_drivers.printer.a4.cups import A4Health, CupsPrinter, JobState
from device_drivers.printer.document import Document
from device_drivers.printer.errors import PrinterNotReady
from device_drivers.printer.job import ReceiptPrinter
from device_drivers.printer.profiles import profile_for

__all__ = ["A4Output", "CupsA4", "FolderA4", "ReceiptOutput"]

_logger = logging.getLogger(__name__)


class A4Output(Protocol):
    """An A4 printer."""

    def problem(self) -> str | None:
        """None when it can print now; else a short code (`paper_out`, `offline`, ...)."""

    def print_pdf(self, pdf: bytes, copies: int, title: str) -> None:
        """Print `copies` copies; raise a `PrinterError` when they were not all printed."""


class CupsA4:
    """A CUPS queue."""

    def __init__(self, url: str, job_timeout_s: float = 120.0) -> None:
        self.printer = CupsPrinter(url)
        self.job_timeout_s = job_timeout_s

    def problem(self) -> str | None:
        """Health of the queue (reachable, accepting jobs, no blocking reason)."""
        status = self.printer.status()
        if not status.reachable:
            return "offline"
        if status.health is A4Health.ERROR:
            # The reason that stops printing (`media-empty-error`), not a warning listed before it; the
            # resident's text comes from `kiosk_app.i18n.problems`.
            blocking = [r for r in status.reasons if not r.endswith(("-report", "-warning"))]
            return (*blocking, *status.reasons, status.state)[0]
        return None

    def print_pdf(self, pdf: bytes, copies: int, title: str) -> None:
        """Submit one job per copy and wait for each to complete."""
        for _ in range(copies):
            job = self.printer.submit(pdf, title)
            state = self.printer.wait(job, self.job_timeout_s)
            if state is not JobState.COMPLETED:
                raise PrinterNotReady(
                    f"A4 job {job} ended {state.name.lower()}", code="printer.a4_job_failed"
                )


class FolderA4:
    """The simulated A4 printer: PDFs (and PNG previews) in a folder.

    A person or a test makes trouble with files in the folder: `paper_out` (no paper: the printer check
    before payment fails) and `jam` (the next job jams half-way; the file is used up).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.printed: list[Path] = []

    def problem(self) -> str | None:
        """`paper_out` while a file of that name is in the folder (how a test or a person takes the paper)."""
        return "paper_out" if (self.folder / "paper_out").exists() else None

    def print_pdf(self, pdf: bytes, copies: int, title: str) -> None:
        """Write the document once per copy (durably: it is the certificate the resident takes)."""
        if self.problem():
            raise PrinterNotReady("the simulated A4 printer has no paper", code="printer.paper_out")
        self.folder.mkdir(parents=True, exist_ok=True)
        jam = self.folder / "jam"
        if jam.exists():
            jam.unlink()
            raise PrinterNotReady("the simulated A4 printer jammed", code="printer.paper_jam")
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for copy in range(1, copies + 1):
            path = self.folder / f"{stamp}-{title}-{uuid.uuid4().hex[:6]}-{copy}.pdf"
            with path.open("wb") as out:
                out.write(pdf)
                out.flush()
            self.printed.append(path)
            _logger.info("simulated A4: printed %s", path.name)
            self._preview(path)

    def _preview(self, pdf: Path) -> None:
        tool = shutil.which("pdftoppm")
        if tool is None:
            return
        try:
            subprocess.run(
                [tool, "-png", "-r", "60", "-singlefile", str(pdf), str(pdf.with_suffix(""))],
                capture_output=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            _logger.info("no PNG preview of %s", pdf.name)


class ReceiptOutput:
    """The receipt printer (ESC/POS), any URL the receipt driver opens."""

    def __init__(self, url: str, profile: str | None = None) -> None:
        self.printer = ReceiptPrinter(url)
        self.profile = profile_for(profile)

    def problem(self) -> str | None:
        """None when ready; else the first problem the printer reports (`paper_out`, `cover_open`, ...)."""
        status = self.printer.status()
        return None if status.ready else (status.problems[0] if status.problems else "not_ready")

    def print_document(self, document: Document) -> None:
        """Print and wait for the printer to report the job done (raises `PrintJobFailed`)."""
        job = encode_job(document, self.profile)
        self.printer.print_job(job, f"{document.kind}-{uuid.uuid4().hex[:8]}")

    def close(self) -> None:
        """Close the link."""
        self.printer.close()
