"""What a raster document looks like on paper, computed on the driver side (golden images, print preview).

The virtual printer renders the bytes we send; this renders the document directly. The two
must agree pixel for pixel (tested), so a preview is what the printer will print.
"""

from __future__ import annotations

from PIL import Image

from device_drivers.printer.document import Barcode, Document, Qr
from device_drivers.printer.emulator.render import Paper, barcode_image, qr_image
from device_drivers.printer.encoder import qr_module, raster_parts, symbol_image
from device_drivers.printer.profiles import PrinterProfile
from device_drivers.printer.symbols import QR_QUIET_MODULES

__all__ = ["preview_image"]


def preview_image(document: Document, profile: PrinterProfile) -> Image.Image:
    """The printed roll of `document` in raster mode on `profile`, as a 1-bit image."""
    paper = Paper(profile.dots)
    for part in raster_parts(document, profile):
        if isinstance(part, Qr | Barcode) and (image := symbol_image(part, profile)) is not None:
            paper.place(image, 0)
        elif isinstance(part, Qr):
            module = qr_module(part, profile)
            paper.blank(QR_QUIET_MODULES * module)
            paper.place(qr_image(part.data.encode("utf-8"), module), 1)
            paper.blank(QR_QUIET_MODULES * module)
        elif isinstance(part, Barcode):
            paper.place(barcode_image(part.data, part.module, part.height), 1)
        else:
            paper.place(part, 0)
    return paper.image()
