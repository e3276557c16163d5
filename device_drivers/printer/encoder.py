"""Raster encoder: a `Document` to ESC/POS bytes through python-escpos, split into segments.

Text is rendered to 1-bit images (see `raster`) and sent as GS v 0; QR codes and barcodes use
the printer's own commands with the alignment set first. Each segment ends on a command
boundary, so the job runner may ask for the printer's status between segments (a DLE EOT inside
raster data would be taken as image data).
"""

from __future__ import annotations

import contextlib
import io
import logging
from dataclasses import dataclass

from escpos.printer import Dummy
from PIL import Image

from device_drivers.printer.document import Barcode, Document, Feed, Qr, Rule, Text
from device_drivers.printer.profiles import PrinterProfile
from device_drivers.printer.raster import RasterRenderer

__all__ = ["ASB_OFF", "EncodedJob", "encode_raster", "escpos_dummy", "raster_parts", "take_bytes"]

_logger = logging.getLogger(__name__)

ASB_OFF = b"\x1d\x61\x00"  # GS a 0: no automatic status back
FRAGMENT_ROWS = 256  # dot rows per GS v 0 command (one segment each)


@dataclass(frozen=True)
class EncodedJob:
    """ESC/POS bytes of one job, as segments that each end on a command boundary."""

    kind: str
    mode: str  # "raster" or "kanji"
    segments: tuple[bytes, ...]

    @property
    def data(self) -> bytes:
        """All bytes of the job."""
        return b"".join(self.segments)

    def __len__(self) -> int:
        return sum(len(s) for s in self.segments)


def escpos_dummy(profile: PrinterProfile) -> Dummy:
    """A python-escpos Dummy printer with the profile's capabilities (collects bytes)."""
    return Dummy(profile=profile.escpos_profile)


def take_bytes(printer: Dummy) -> bytes:
    """The bytes the Dummy printer collected since the last call (and clear them)."""
    data = printer.output
    printer.clear()
    return bytes(data)


def raster_parts(document: Document, profile: PrinterProfile) -> list[Image.Image | Qr | Barcode]:
    """The document as raster images (runs of text, rules, feeds) interleaved with QR and barcode blocks."""
    renderer = RasterRenderer(profile.dots, profile.scale)
    parts: list[Image.Image | Qr | Barcode] = []
    run: list[Text | Rule | Feed] = []
    for block in document.blocks:
        if isinstance(block, Qr | Barcode):
            if run:
                parts.append(renderer.render(run))
                run = []
            parts.append(block)
        else:
            run.append(block)
    if run:
        parts.append(renderer.render(run))
    return parts


def encode_qr(printer: Dummy, block: Qr, profile: PrinterProfile) -> bytes:
    """Native QR: centre, GS ( k model/size/EC/store/print, back to left."""
    printer.set(align="center")
    printer.qr(block.data, size=block.module or profile.qr_module, native=True)
    printer.set(align="left")
    return take_bytes(printer)


def encode_barcode(printer: Dummy, block: Barcode) -> bytes:
    """Native CODE128 (code set B), centred, without printer HRI text."""
    with contextlib.redirect_stdout(io.StringIO()):  # python-escpos 3.1 prints a notice here
        printer.barcode("{B" + block.data, "CODE128", height=block.height, width=block.module, pos="OFF")
    printer.set(align="left")
    return take_bytes(printer)


def encode_image(printer: Dummy, image: Image.Image) -> list[bytes]:
    """GS v 0 raster, one segment per `FRAGMENT_ROWS` rows."""
    out = []
    for top in range(0, image.height, FRAGMENT_ROWS):
        printer.image(
            image.crop((0, top, image.width, min(image.height, top + FRAGMENT_ROWS))), impl="bitImageRaster"
        )
        out.append(take_bytes(printer))
    return out


def encode_raster(document: Document, profile: PrinterProfile) -> EncodedJob:
    """Encode `document` for `profile` with all text as raster images."""
    printer = escpos_dummy(profile)
    printer.hw("INIT")
    printer._raw(ASB_OFF)
    segments = [take_bytes(printer)]
    for part in raster_parts(document, profile):
        if isinstance(part, Qr):
            segments.append(encode_qr(printer, part, profile))
        elif isinstance(part, Barcode):
            segments.append(encode_barcode(printer, part))
        else:
            segments.extend(encode_image(printer, part))
    printer.cut()
    segments.append(take_bytes(printer))
    job = EncodedJob(document.kind, "raster", tuple(segments))
    _logger.debug("encoded %s as raster: %d bytes in %d segments", document.kind, len(job), len(segments))
    return job
