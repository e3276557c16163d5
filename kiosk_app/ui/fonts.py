"""Fonts of the kiosk screens: BIZ UDPGothic (proportional Latin), with Noto Sans CJK for what it lacks (e.g. 𠮷, U+20BB7),
DejaVu Sans for Latin letters it lacks (Tiếng Việt) and Lohit Devanagari for नेपाली.

Kivy draws a label with one font, so `with_fallback()` wraps runs of characters missing from BIZ UD
Gothic in `[font=…]` markup for the fallback. Files are looked up in the Debian font folders
(`fonts-morisawa-bizud-gothic`, `fonts-noto-cjk`, `fonts-dejavu-core`, `fonts-lohit-deva`); a missing one is an error that
says which package to install — never a silent fall back to Kivy's Roboto (which draws kana as boxes).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

from kiosk_app.ui.cmap_cache import CodeRanges, font_ranges
from madoguchi.errors import UserError

__all__ = [
    "CJK_FONT",
    "DEVA_FONT",
    "LATIN_FONT",
    "UI_FONT",
    "FontFiles",
    "find_fonts",
    "register_fonts",
    "with_fallback",
]

_logger = logging.getLogger(__name__)

UI_FONT = "KioskUI"
CJK_FONT = "KioskCJK"
LATIN_FONT = "KioskLatin"
DEVA_FONT = "KioskDeva"

_CANDIDATES = {
    # BIZ UDPGothic: the proportional face of the family (BIZ UDGothic draws Latin letters monospaced).
    "regular": (
        "/usr/share/fonts/truetype/bizud-gothic/BIZUDPGothic-Regular.ttf",
        "/usr/share/fonts/truetype/bizud-gothic/BIZUDGothic-Regular.ttf",
    ),
    "bold": (
        "/usr/share/fonts/truetype/bizud-gothic/BIZUDPGothic-Bold.ttf",
        "/usr/share/fonts/truetype/bizud-gothic/BIZUDGothic-Bold.ttf",
    ),
    "cjk": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",),
    "latin": ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",),
    "deva": ("/usr/share/fonts/truetype/lohit-devanagari/Lohit-Devanagari.ttf",),
}
_PACKAGES = {
    "regular": "fonts-morisawa-bizud-gothic",
    "bold": "fonts-morisawa-bizud-gothic",
    "cjk": "fonts-noto-cjk",
    "latin": "fonts-dejavu-core",
    "deva": "fonts-lohit-deva",
}


@dataclass(frozen=True)
class FontFiles:
    """The font files the screens use."""

    regular: Path
    bold: Path
    cjk: Path
    latin: Path
    deva: Path


def find_fonts() -> FontFiles:
    """Locate the font files (`UserError` naming the Debian package when one is missing)."""
    found: dict[str, Path] = {}
    for role, paths in _CANDIDATES.items():
        path = next((Path(p) for p in paths if Path(p).is_file()), None)
        if path is None:
            raise UserError(
                f"font for {role} text not found (looked in {', '.join(paths)})",
                f"install it: apt-get install {_PACKAGES[role]} (scripts/bootstrap.sh does)",
            )
        found[role] = path
    return FontFiles(**found)


def register_fonts(files: FontFiles | None = None) -> FontFiles:
    """Register the fonts with Kivy under `UI_FONT`, `CJK_FONT` and `LATIN_FONT`."""
    from kivy.core.text import LabelBase

    files = files or find_fonts()
    LabelBase.register(name=UI_FONT, fn_regular=str(files.regular), fn_bold=str(files.bold))
    LabelBase.register(name=CJK_FONT, fn_regular=str(files.cjk))
    LabelBase.register(name=LATIN_FONT, fn_regular=str(files.latin))
    LabelBase.register(name=DEVA_FONT, fn_regular=str(files.deva))
    return files


@functools.cache
def _cmap(path: str) -> CodeRanges:
    return font_ranges(Path(path))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("[", "&bl;").replace("]", "&br;")


def font_for(char: str, files: FontFiles) -> str:
    """The registered font name that has a glyph for `char` (the UI font when none has)."""
    code = ord(char)
    if char.isspace() or code in _cmap(str(files.regular)):
        return UI_FONT
    if code in _cmap(str(files.cjk)):
        return CJK_FONT
    if code in _cmap(str(files.latin)):
        return LATIN_FONT
    if code in _cmap(str(files.deva)):
        return DEVA_FONT
    return UI_FONT


def with_fallback(text: str, files: FontFiles, *, markup_in: bool = False) -> str:
    """Kivy markup for `text` with runs the UI font lacks switched to a fallback font.

    `markup_in`: `text` already is Kivy markup (tags are kept, only the text between tags is checked).
    """
    out: list[str] = []
    current = UI_FONT
    run: list[str] = []

    def flush() -> None:
        if not run:
            return
        chunk = "".join(run)
        out.append(chunk if current == UI_FONT else f"[font={current}]{chunk}[/font]")
        run.clear()

    index = 0
    while index < len(text):
        char = text[index]
        if markup_in and char == "[":
            end = text.find("]", index)
            if end != -1:
                flush()
                out.append(text[index : end + 1])
                index = end + 1
                continue
        if markup_in and char == "&":
            end = text.find(";", index)
            if end != -1:
                run.append(text[index : end + 1])
                index = end + 1
                continue
        font = font_for(char, files)
        if font != current:
            flush()
            current = font
        run.append(char if markup_in else _escape(char))
        index += 1
    flush()
    return "".join(out)
