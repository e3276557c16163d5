"""Raster text rendering: text blocks drawn with Pillow straight onto a 1-bit canvas.

Drawing in mode "1" keeps glyphs crisp (no dithering). Each character is drawn with the first
font of the chain that has it, on a common baseline. Paragraphs wrap at the paper width: at the
last space for words written with spaces (Latin with accents, Tiếng Việt, 한국어, नेपाली), between
any two characters inside Japanese or Chinese, and never inside a grapheme (a base letter and its
combining marks, a Devanagari conjunct joined by a virama).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from PIL import Image, ImageDraw

from device_drivers.printer.document import Align, Feed, Rule, Text
from device_drivers.printer.fonts import FontChain, default_chain

__all__ = ["MARGIN", "RasterRenderer"]

MARGIN = 8  # dots left and right at 576 dots
_LINE_GAP = 0.25  # of the glyph size


class RasterRenderer:
    """Renders runs of text, rule and feed blocks to 1-bit images `width` dots wide."""

    def __init__(
        self, width: int, scale: float = 1.0, chains: tuple[FontChain, FontChain] | None = None
    ) -> None:
        self.width = width
        self.scale = scale
        self._chains = chains

    def chain(self, bold: bool) -> FontChain:
        """The font chain for regular or bold text."""
        if self._chains is not None:
            return self._chains[1 if bold else 0]
        return default_chain(bold)

    def _px(self, dots: int) -> int:
        return max(1, round(dots * self.scale))

    def text_width(self, text: str, size: int, bold: bool) -> float:
        """Width in dots of `text` drawn at `size` with fallback."""
        chain = self.chain(bold)
        return sum(chain.font(i, size).getlength(run) for i, run in chain.runs(text))

    def wrap(self, text: str, size: int, bold: bool) -> list[str]:
        """Split `text` into lines that fit between the margins."""
        room = self.width - 2 * self._px(MARGIN)
        lines: list[str] = []
        for paragraph in text.split("\n"):
            line = ""
            for char in paragraph:
                candidate = line + char
                if line and self.text_width(candidate, size, bold) > room:
                    cut = break_point(line, char)
                    if cut <= 0:  # nowhere to break: let the line run over rather than split a grapheme
                        line = candidate
                    elif line[cut - 1] == " ":
                        lines.append(line[: cut - 1])
                        line = line[cut:] + char
                    else:
                        lines.append(line[:cut])
                        line = (line[cut:] + char).lstrip()
                else:
                    line = candidate
            lines.append(line)
        return lines

    def render(self, blocks: Sequence[Text | Rule | Feed]) -> Image.Image:
        """Draw `blocks` top to bottom on one white 1-bit image."""
        rows: list[tuple[Text | Rule | None, str, int, int]] = []  # (block, line, glyph size, height)
        for block in blocks:
            if isinstance(block, Text):
                size = self._px(block.size.value)
                step = size + round(size * _LINE_GAP)
                rows.extend((block, line, size, step) for line in self.wrap(block.text, size, block.bold))
            elif isinstance(block, Rule):
                rows.append((block, "", 0, self._px(16)))
            else:
                rows.append((None, "", 0, self._px(block.dots)))
        height = max(1, sum(step for _, _, _, step in rows))
        image = Image.new("1", (self.width, height), 1)
        draw = ImageDraw.Draw(image)
        draw.fontmode = "1"
        y = 0
        for row_block, line, size, step in rows:
            if isinstance(row_block, Text):
                self._draw_line(draw, line, size, row_block, y)
            elif isinstance(row_block, Rule):
                self._draw_rule(draw, row_block, y + step // 2)
            y += step
        return image

    def _draw_line(self, draw: ImageDraw.ImageDraw, line: str, size: int, block: Text, top: int) -> None:
        chain = self.chain(block.bold)
        margin = self._px(MARGIN)
        width = self.text_width(line, size, block.bold)
        if block.align is Align.CENTER:
            x = (self.width - width) / 2
        elif block.align is Align.RIGHT:
            x = self.width - margin - width
        else:
            x = margin
        baseline = top + round(size * 0.88)
        for index, run in chain.runs(line):
            font = chain.font(index, size)
            draw.text((round(x), baseline), run, font=font, fill=0, anchor="ls")
            x += font.getlength(run)

    def _draw_rule(self, draw: ImageDraw.ImageDraw, rule: Rule, y: int) -> None:
        margin = self._px(MARGIN)
        if not rule.dashed:
            draw.line((margin, y, self.width - margin, y), fill=0, width=2)
            return
        for x in range(margin, self.width - margin, 12):
            draw.line((x, y, min(x + 6, self.width - margin), y), fill=0, width=2)


def _ideographic(char: str) -> bool:
    """Han, kana and full-width forms: text written without spaces, breakable between characters."""
    return unicodedata.east_asian_width(char) in ("W", "F") and not ("\uac00" <= char <= "\ud7a3")


def _joins(before: str, after: str) -> bool:
    """True when no line may break between `before` and `after` (inside one grapheme)."""
    return unicodedata.category(after).startswith("M") or unicodedata.name(before, "").endswith("VIRAMA")


def break_point(line: str, char: str) -> int:
    """Where to end `line` when `char` does not fit after it: an index into `line` (0: nowhere).

    After the last space when the word being written has letters of a script written with spaces
    (a Korean word with 漢字 in brackets included); inside Japanese or Chinese before `char`, moved
    back so that no grapheme is split.
    """
    if char == " ":
        return len(line)
    space = line.rfind(" ")
    letters = [c for c in line[space + 1 :] + char if c.isalpha()]
    if space > 0 and not (letters and all(_ideographic(c) for c in letters)):
        return space + 1
    cut, following = len(line), char
    while cut > 0 and _joins(line[cut - 1], following):
        cut, following = cut - 1, line[cut - 1]
    return cut
