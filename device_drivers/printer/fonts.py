"""The receipt printer's raster fonts: `madoguchi.certificates.fonts` raising printer errors.

The font chain (BIZ UD Gothic, Noto Sans CJK JP, DejaVu Sans, Lohit Devanagari; per-character fallback
from each font's cmap) is shared with certificate rendering; here a character no font has is
`device_drivers.printer.errors.GlyphMissing` and missing fonts are `PrinterConfigError`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

from device_drivers.printer.translate import printer_errors
from madoguchi.certificates import fonts
from madoguchi.certificates.fonts import FONT_PATHS, FontFace

__all__ = ["FONT_PATHS", "FontChain", "FontFace", "default_chain"]


class FontChain(fonts.FontChain):
    """An ordered list of faces; each character is drawn by the first face that has it (printer errors)."""

    def __init__(self, faces: tuple[FontFace, ...]) -> None:
        with printer_errors():
            super().__init__(faces)

    def check(self, text: str) -> None:
        """Raise the printer's `GlyphMissing` when some character of `text` cannot be drawn."""
        with printer_errors():
            super().check(text)

    def runs(self, text: str) -> Iterator[tuple[int, str]]:
        """Split `text` into (face index, substring) runs; the printer's `GlyphMissing` for a missing one."""
        with printer_errors():
            yield from super().runs(text)


@functools.lru_cache(maxsize=2)
def default_chain(bold: bool = False) -> FontChain:
    """BIZ UD Gothic, then Noto Sans CJK JP, DejaVu Sans and Lohit Devanagari (regular or bold)."""
    with printer_errors():
        return FontChain(fonts.default_chain(bold).faces)
