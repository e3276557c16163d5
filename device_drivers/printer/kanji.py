"""Kanji-mode encoder for printers with a kanji ROM: Shift_JIS text via FS C 1, raster per line as fallback.

python-escpos 3.1 cannot send kanji (its text() picks GB18030 or '?'), so text goes through
`_raw`. A line with a character the ROM cannot encode (e.g. 𠮷, outside JIS X 0208) is printed
as a raster image instead, so nothing is dropped. Sizes use GS ! (applies to kanji too).
"""

from __future__ import annotations

import logging
import unicodedata

from device_drivers.printer.document import Align, Barcode, Document, Feed, Qr, Rule, Text, TextSize
from device_drivers.printer.encoder import (
    ASB_OFF,
    EncodedJob,
    encode_barcode,
    encode_image,
    encode_qr,
    end_job,
    escpos_dummy,
)
from device_drivers.printer.profiles import PrinterProfile
from device_drivers.printer.raster import RasterRenderer

__all__ = ["KANJI_ON", "MAGNIFICATION", "encode_kanji"]

_logger = logging.getLogger(__name__)

KANJI_ON = b"\x1c\x43\x01"  # FS C 1: Shift_JIS code system
ANK_DOTS = 12  # font A: 12x24 half-width, 24x24 kanji
MAGNIFICATION = {TextSize.SMALL: 1, TextSize.NORMAL: 1, TextSize.LARGE: 2, TextSize.HUGE: 6}
_ALIGN = {Align.LEFT: b"\x1b\x61\x00", Align.CENTER: b"\x1b\x61\x01", Align.RIGHT: b"\x1b\x61\x02"}


def _cells(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in ("W", "F", "A") else 1


def wrap_cells(text: str, columns: int) -> list[str]:
    """Split `text` into lines of at most `columns` half-width cells."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, used = "", 0
        for char in paragraph:
            width = _cells(char)
            if used + width > columns and line:
                lines.append(line)
                line, used = "", 0
            line += char
            used += width
        lines.append(line)
    return lines


def _text_segments(
    block: Text, profile: PrinterProfile, renderer: RasterRenderer, printer: object
) -> list[bytes]:
    mag = MAGNIFICATION[block.size]
    columns = max(1, profile.dots // (ANK_DOTS * mag))
    out: list[bytes] = []
    for line in wrap_cells(block.text, columns):
        try:
            encoded = line.encode(profile.kanji_codec)
        except UnicodeEncodeError:
            # The ROM lacks a character: print this line as raster, at the same place.
            image = renderer.render([Text(line, block.size, block.align, block.bold)])
            out.extend(encode_image(printer, image))
            continue
        size = bytes([0x1D, 0x21, ((mag - 1) << 4) | (mag - 1)])
        bold = b"\x1b\x45\x01" if block.bold else b"\x1b\x45\x00"
        out.append(_ALIGN[block.align] + size + bold + encoded + b"\n")
    return out


def encode_kanji(document: Document, profile: PrinterProfile) -> EncodedJob:
    """Encode `document` in kanji mode (FS C 1 + Shift_JIS), raster only for lines the ROM cannot print."""
    printer = escpos_dummy(profile)
    renderer = RasterRenderer(profile.dots, profile.scale)
    segments = [b"\x1b\x40" + ASB_OFF + KANJI_ON]
    for block in document.blocks:
        if isinstance(block, Text):
            segments.extend(_text_segments(block, profile, renderer, printer))
        elif isinstance(block, Qr):
            segments.extend(encode_qr(printer, block, profile))
        elif isinstance(block, Barcode):
            segments.extend(encode_barcode(printer, block, profile))
        elif isinstance(block, Rule):
            columns = profile.dots // ANK_DOTS
            segments.append(
                b"\x1b\x61\x00\x1d\x21\x00"
                + (b"- " if block.dashed else b"-") * (columns // 2 if block.dashed else columns)
                + b"\n"
            )
        elif isinstance(block, Feed):
            segments.append(b"\x1b\x4a" + bytes([min(255, round(block.dots * profile.scale))]))
    segments.append(b"\x1d\x21\x00\x1b\x45\x00")
    segments.append(end_job(printer, profile))
    job = EncodedJob(document.kind, "kanji", tuple(segments))
    _logger.debug("encoded %s in kanji mode: %d bytes", document.kind, len(job))
    return job
