"""Fonts with per-character fallback (Pillow has none of its own): receipt raster, city seal, glyph check.

BIZ UD Gothic is the primary face; Noto Sans CJK JP (face 0 of the TTC) covers what it lacks,
such as 𠮷 and 槗 and Hangul; DejaVu Sans the Latin letters of Tiếng Việt neither has, and Lohit
Devanagari नेपाली (shaped by Pillow's raqm layout). Which face draws a character is decided from
each font's cmap (fontTools), loaded once per process on first use. The image installs every one
of these fonts (provisioning/image/stage-kiosk/00-packages).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass

from fontTools.ttLib import TTCollection, TTFont
from PIL import ImageFont

from madoguchi.certificates.errors import FontsMissing, GlyphMissing

__all__ = ["FONT_PATHS", "FontChain", "FontFace", "default_chain"]

_logger = logging.getLogger(__name__)

_FONT_DIRS = ("/usr/share/fonts/truetype/bizud-gothic", "/usr/share/fonts/opentype/noto")
# Faces after the CJK ones, for scripts they lack; each is (regular, bold) candidates.
_EXTRA_FACES = (
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
    ("/usr/share/fonts/truetype/lohit-devanagari/Lohit-Devanagari.ttf",) * 2,  # no bold face
)
FONT_PATHS = (
    *(f"{_FONT_DIRS[0]}/BIZUDGothic-{weight}.ttf" for weight in ("Regular", "Bold")),
    *(f"{_FONT_DIRS[1]}/NotoSansCJK-{weight}.ttc" for weight in ("Regular", "Bold")),
    *{path for pair in _EXTRA_FACES for path in pair},
)


@dataclass(frozen=True)
class FontFace:
    """One font file (and face index inside a TTC)."""

    path: str
    index: int = 0


def _find(candidates: tuple[str, ...]) -> str:
    for path in candidates:
        if os.path.exists(path):
            return path
    raise FontsMissing(
        f"none of the fonts {', '.join(candidates)} is installed",
        "run scripts/bootstrap.sh (fonts-morisawa-bizud-gothic, fonts-noto-cjk, fonts-dejavu-core, fonts-lohit-deva)",
    )


@functools.lru_cache(maxsize=8)
def _cmap(face: FontFace) -> frozenset[int]:
    if face.path.lower().endswith((".ttc", ".otc")):
        font = TTCollection(face.path, lazy=True).fonts[face.index]
    else:
        font = TTFont(face.path, lazy=True)
    cmap = font.getBestCmap() or {}
    return frozenset(cmap)


class FontChain:
    """An ordered list of faces; each character is drawn by the first face that has it."""

    def __init__(self, faces: tuple[FontFace, ...]) -> None:
        if not faces:
            raise FontsMissing("a font chain needs at least one installed font", "install fonts-noto-cjk")
        self.faces = faces

    def face_index(self, char: str) -> int | None:
        """Index in `faces` of the first face with `char`, or None when no face has it."""
        cp = ord(char)
        for i, face in enumerate(self.faces):
            if cp in _cmap(face):
                return i
        return None

    def missing(self, text: str) -> tuple[int, ...]:
        """Code points of `text` that no face covers (control and space characters excepted)."""
        out = sorted({ord(c) for c in text if not c.isspace() and self.face_index(c) is None})
        return tuple(out)

    def check(self, text: str) -> None:
        """Raise `GlyphMissing` when some character of `text` cannot be drawn."""
        missing = self.missing(text)
        if missing:
            raise GlyphMissing(missing)

    def runs(self, text: str) -> Iterator[tuple[int, str]]:
        """Split `text` into (face index, substring) runs."""
        current = -1
        buf: list[str] = []
        for char in text:
            index = 0 if char.isspace() else self.face_index(char)
            if index is None:
                raise GlyphMissing((ord(char),))
            if index != current and buf:
                yield current, "".join(buf)
                buf = []
            current = index
            buf.append(char)
        if buf:
            yield current, "".join(buf)

    def font(self, index: int, size: int) -> ImageFont.FreeTypeFont:
        """The Pillow font of face `index` at `size` pixels."""
        return _pil_font(self.faces[index], size)


@functools.lru_cache(maxsize=64)
def _pil_font(face: FontFace, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(face.path, size=size, index=face.index)


@functools.lru_cache(maxsize=2)
def default_chain(bold: bool = False) -> FontChain:
    """BIZ UD Gothic, then Noto Sans CJK JP, DejaVu Sans and Lohit Devanagari (regular or bold)."""
    weight = "Bold" if bold else "Regular"
    primary = _find((f"{_FONT_DIRS[0]}/BIZUDGothic-{weight}.ttf",))
    fallback = _find(
        (f"{_FONT_DIRS[1]}/NotoSansCJK-{weight}.ttc", f"{_FONT_DIRS[1]}/NotoSansCJK-Regular.ttc")
    )
    extra = tuple(FontFace(_find((pair[1], pair[0]) if bold else (pair[0],))) for pair in _EXTRA_FACES)
    _logger.debug("raster fonts: %s, fallback %s, %s", primary, fallback, [face.path for face in extra])
    return FontChain((FontFace(primary), FontFace(fallback, 0), *extra))
