"""Raster encoder: a `Document` to ESC/POS bytes through python-escpos, split into segments.

Text is rendered to 1-bit images (see `raster`) and sent as GS v 0; QR codes and barcodes use
the printer's own commands with the alignment set first, or, where the profile has none, go as
raster images drawn with their quiet zones (see `symbols`). Every QR keeps a 4-module quiet
zone: the module shrinks until it fits across the paper, and native codes get blank feeds above
and below. Every job ends the way the profile's cutter says (`end_job`). Each segment ends on a
command boundary, so the job runner may ask for the printer's status between segments (a DLE
EOT inside raster data would be taken as image data).
"""

from __future__ import annotations

import contextlib
import io
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image

from device_drivers.printer import symbols
from device_drivers.printer.document import Barcode, Document, Feed, Qr, Rule, Text
from device_drivers.printer.escpos_cache import load_escpos
from device_drivers.printer.profiles import Cutter, PrinterProfile
from device_drivers.printer.raster import RasterRenderer

if TYPE_CHECKING:
    from escpos.printer import Dummy

__all__ = [
    "ASB_OFF",
    "EncodedJob",
    "encode_barcode",
    "encode_image",
    "encode_qr",
    "encode_raster",
    "end_job",
    "escpos_dummy",
    "qr_module",
    "raster_parts",
    "symbol_image",
    "take_bytes",
]

_logger = logging.getLogger(__name__)

ASB_OFF = b"\x1d\x61\x00"  # GS a 0: no automatic status back
FRAGMENT_ROWS = 256  # dot rows per GS v 0 command (one segment each)
FEED_TO_CUTTER = b"\x1d\x56\x42\x00"  # GS V 66 0: feed to the cutting (tear-off) position, partial cut
_CUTS = {Cutter.FULL: b"\x1d\x56\x00", Cutter.PARTIAL: b"\x1d\x56\x01"}  # GS V 0 / GS V 1


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
    load_escpos()
    from escpos.printer import Dummy  # after load_escpos(): imported when the first job is encoded

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


def qr_module(block: Qr, profile: PrinterProfile) -> int:
    """Dots per QR module: the block's (or profile's) size, smaller if the code and its quiet zone would not fit."""
    wanted = block.module or profile.qr_module
    return symbols.fit_module(wanted, symbols.qr_modules(block.data), symbols.QR_QUIET_MODULES, profile.dots)


def symbol_image(block: Qr | Barcode, profile: PrinterProfile) -> Image.Image | None:
    """The full-width raster image sent instead of a QR or barcode the printer cannot draw; None if it can."""
    if isinstance(block, Qr):
        if profile.native_qr:
            return None
        return symbols.centred(symbols.qr_image(block.data, qr_module(block, profile)), profile.dots)
    if profile.native_barcode:
        return None
    modules = symbols.barcode_modules(block.data)
    module = symbols.fit_module(block.module, modules, symbols.BARCODE_QUIET_MODULES, profile.dots)
    return symbols.centred(symbols.barcode_image(block.data, module, block.height), profile.dots)


def _feed(dots: int) -> bytes:
    return b"\x1b\x4a" + bytes([dots])  # ESC J n: print and feed n dots


def encode_qr(printer: Dummy, block: Qr, profile: PrinterProfile) -> list[bytes]:
    """QR with its quiet zone: native (blank feed, centre, GS ( k, blank feed, back to left) or a raster image."""
    image = symbol_image(block, profile)
    if image is not None:
        return encode_image(printer, image)
    module = qr_module(block, profile)
    quiet = _feed(symbols.QR_QUIET_MODULES * module)
    printer._raw(quiet)
    printer.set(align="center")
    printer.qr(block.data, size=module, native=True)
    printer._raw(quiet)
    printer.set(align="left")
    return [take_bytes(printer)]


def encode_barcode(printer: Dummy, block: Barcode, profile: PrinterProfile) -> list[bytes]:
    """CODE128: native code set B, centred, without printer HRI text; or a raster image with quiet zones."""
    image = symbol_image(block, profile)
    if image is not None:
        return encode_image(printer, image)
    with contextlib.redirect_stdout(io.StringIO()):  # python-escpos 3.1 prints a notice here
        printer.barcode("{B" + block.data, "CODE128", height=block.height, width=block.module, pos="OFF")
    printer.set(align="left")
    return [take_bytes(printer)]


def end_job(printer: Dummy, profile: PrinterProfile) -> bytes:
    """The bytes that end a job: feed and cut, or, without a cutter, feed to the tear-off position.

    Sent by hand rather than with python-escpos' `cut()`, which sends no cut at all when its
    capability database lists no cutter for the model.
    """
    if profile.cutter is Cutter.NONE:
        printer._raw(FEED_TO_CUTTER)
    else:
        printer.print_and_feed(6)
        printer._raw(_CUTS[profile.cutter])
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
            segments.extend(encode_qr(printer, part, profile))
        elif isinstance(part, Barcode):
            segments.extend(encode_barcode(printer, part, profile))
        else:
            segments.extend(encode_image(printer, part))
    segments.append(end_job(printer, profile))
    job = EncodedJob(document.kind, "raster", tuple(segments))
    _logger.debug("encoded %s as raster: %d bytes in %d segments", document.kind, len(job), len(segments))
    return job
