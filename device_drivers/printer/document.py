"""A printable slip as data: text lines, rules, QR codes, barcodes and feeds, device-independent.

Templates build a `Document`; the raster and kanji encoders turn it into ESC/POS bytes for one
printer profile. Sizes are in dots of the 576-dot reference layout and scaled per profile.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Align", "Barcode", "Block", "Document", "Feed", "Qr", "Rule", "Text", "TextSize"]


class Align(enum.StrEnum):
    """Horizontal alignment."""

    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


class TextSize(enum.IntEnum):
    """Glyph height in dots at 576 dots; the value doubles as the kanji-mode magnification key."""

    SMALL = 22
    NORMAL = 28
    LARGE = 44
    HUGE = 150


@dataclass(frozen=True)
class Text:
    """One paragraph of text; wrapped to the paper width."""

    text: str
    size: TextSize = TextSize.NORMAL
    align: Align = Align.LEFT
    bold: bool = False


@dataclass(frozen=True)
class Rule:
    """A horizontal line across the paper."""

    dashed: bool = False


@dataclass(frozen=True)
class Feed:
    """Blank space of `dots` dots (reference layout)."""

    dots: int = 24


@dataclass(frozen=True)
class Qr:
    """A QR code printed with the printer's own QR command, centred."""

    data: str
    module: int | None = None  # dots per module; the profile's default when None


@dataclass(frozen=True)
class Barcode:
    """A CODE128 barcode printed with the printer's own barcode command, centred."""

    data: str
    height: int = 80
    module: int = 2


Block = Text | Rule | Feed | Qr | Barcode


@dataclass(frozen=True)
class Document:
    """A slip to print: its kind (for logs; never its contents) and its blocks, top to bottom."""

    kind: str
    blocks: tuple[Block, ...]

    def texts(self) -> tuple[str, ...]:
        """Every text of the document, e.g. for a glyph coverage check."""
        return tuple(b.text for b in self.blocks if isinstance(b, Text))
