"""Receipt printer (ESC/POS) and A4 certificate printing for the kiosk.

Main entry points: `ReceiptPrinter` (health-checked jobs over a URL-chosen transport),
`encode_raster` / `encode_kanji` (a `Document` to ESC/POS), the templates in `templates`,
the virtual printer in `emulator`, and A4 certificates in `a4`.
"""

from __future__ import annotations

from device_drivers.printer.document import Document
from device_drivers.printer.encoder import EncodedJob, encode_raster
from device_drivers.printer.events import JobOutcome, PrinterEvent, PrinterStatusChanged, PrintJobReported
from device_drivers.printer.job import JobResult, ReceiptPrinter
from device_drivers.printer.kanji import encode_kanji
from device_drivers.printer.profiles import PrinterProfile, profile_for
from device_drivers.printer.status import Health, PaperLevel, PrinterStatus

__all__ = [
    "Document",
    "EncodedJob",
    "Health",
    "JobOutcome",
    "JobResult",
    "PaperLevel",
    "PrintJobReported",
    "PrinterEvent",
    "PrinterProfile",
    "PrinterStatus",
    "PrinterStatusChanged",
    "ReceiptPrinter",
    "encode_job",
    "encode_kanji",
    "encode_raster",
    "profile_for",
]


def encode_job(document: Document, profile: PrinterProfile) -> EncodedJob:
    """Kanji mode for profiles with a kanji ROM, raster otherwise."""
    return encode_kanji(document, profile) if profile.kanji else encode_raster(document, profile)
