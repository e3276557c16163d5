"""Line layout of text with furigana (ruby): readings in small kana centred above each word, no Kivy.

The input is the Kivy markup a screen puts into a label for やさしい日本語: `{漢字|かんじ}` words with
`[font=…]` runs (font fallback, `ui.fonts.with_fallback`) and the `&bl;` `&br;` `&amp;` entities. The
output is a list of placed runs (text, font, size, box) for the widget to draw (`ui.ruby_label`).

Line breaking: a ruby word is never split. Lines break at spaces first (分かち書き); a space-free stretch
that is wider than the line breaks between Japanese characters, except before closing punctuation or
small kana and after opening brackets (禁則). Every line keeps a band for the readings above its text.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["READING_SCALE", "Measure", "Placed", "RubyLayout", "layout_ruby", "markup_chars"]

READING_SCALE = 0.5
# (text, font name, font size) → (width, height) of the rendered text in pixels.
Measure = Callable[[str, str, float], tuple[float, float]]

_RUBY = re.compile(r"\{([^{}|]+)\|([^{}|]+)\}")
_TAG = re.compile(r"\[(/?)([a-z_]+)(?:=([^\]]*))?\]")
_ENTITY = re.compile(r"&(bl|br|amp);")
_ENTITIES = {"bl": "[", "br": "]", "amp": "&"}
_NO_START = set("、。，．,.:;!?！？)）」』】〕〉》ーぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ…‥〜～・：；")
_NO_END = set("(（「『【〔〈《")

Chars = list[tuple[str, str]]  # (character, font)


@dataclass(frozen=True)
class Placed:
    """One run drawn in one font: `x`, `top` from the block's top-left corner, y downwards."""

    text: str
    font: str
    size: float
    x: float
    top: float
    width: float
    height: float
    role: str  # "text" (no reading), "base" (a word with a reading) or "reading"
    word: int = -1  # index of the ruby word a base or reading belongs to


@dataclass(frozen=True)
class RubyLayout:
    """The laid-out block: its size and the runs to draw."""

    width: float
    height: float
    items: tuple[Placed, ...]

    def words(self) -> dict[int, tuple[list[Placed], list[Placed]]]:
        """Ruby word index → (base runs, reading runs)."""
        found: dict[int, tuple[list[Placed], list[Placed]]] = {}
        for item in self.items:
            if item.word >= 0:
                base, reading = found.setdefault(item.word, ([], []))
                (reading if item.role == "reading" else base).append(item)
        return found


def _indexed(markup: str, default_font: str) -> list[tuple[str, str, int]]:
    """(character, font, index in `markup`) for every character drawn; only `font` tags count."""
    out: list[tuple[str, str, int]] = []
    fonts = [default_font]
    position = 0
    for match in [*_TAG.finditer(markup), None]:
        end = match.start() if match else len(markup)
        index = position
        while index < end:
            entity = _ENTITY.match(markup, index, end)
            if entity:
                out.append((_ENTITIES[entity.group(1)], fonts[-1], index))
                index = entity.end()
            else:
                out.append((markup[index], fonts[-1], index))
                index += 1
        if match is None:
            break
        closing, tag, value = match.groups()
        if tag == "font":
            if closing and len(fonts) > 1:
                fonts.pop()
            elif not closing and value:
                fonts.append(value)
        position = match.end()
    return out


def markup_chars(markup: str, default_font: str) -> Chars:
    """The characters of Kivy markup with the font each is drawn in (tags other than `font` are dropped)."""
    return [(char, font) for char, font, _index in _indexed(markup, default_font)]


@dataclass
class _Box:
    kind: str  # "space", "newline", "text" or "ruby"
    base: Chars
    reading: Chars = field(default_factory=list)
    word: int = -1

    @property
    def first(self) -> str:
        return self.base[0][0] if self.base else ""

    @property
    def last(self) -> str:
        return self.base[-1][0] if self.base else ""


def _wide(char: str) -> bool:
    """Characters that may be broken between one by one (CJK, kana, full-width forms)."""
    return ord(char) >= 0x2E80


def _boxes(markup: str, default_font: str) -> list[_Box]:
    boxes: list[_Box] = []

    def plain(chunk: Chars) -> None:
        for char, font in chunk:
            previous = boxes[-1] if boxes else None
            if char == "\n":
                boxes.append(_Box("newline", []))
            elif char.isspace():
                if previous is not None and previous.kind == "space":
                    previous.base.append((char, font))
                else:
                    boxes.append(_Box("space", [(char, font)]))
            elif (
                not _wide(char)
                and previous is not None
                and previous.kind == "text"
                and not _wide(previous.last)
            ):
                previous.base.append((char, font))  # Latin words and numbers stay whole
            else:
                boxes.append(_Box("text", [(char, font)]))

    indexed = _indexed(markup, default_font)

    def between(low: int, high: int) -> Chars:
        return [(char, font) for char, font, index in indexed if low <= index < high]

    position = 0
    for word, match in enumerate(_RUBY.finditer(markup)):
        plain(between(position, match.start()))
        base, reading = between(match.start(1), match.end(1)), between(match.start(2), match.end(2))
        boxes.append(_Box("ruby", base, reading, word))
        position = match.end()
    plain(between(position, len(markup)))
    return boxes


def _may_break(before: _Box, after: _Box) -> bool:
    """May a line end between these two non-space boxes (Japanese line breaking, 禁則)?"""
    if after.first in _NO_START or before.last in _NO_END:
        return False
    return _wide(before.last) or _wide(after.first)


def _runs(chars: Chars) -> list[tuple[str, str]]:
    """Consecutive characters in the same font joined: (text, font)."""
    runs: list[tuple[str, str]] = []
    for char, font in chars:
        if runs and runs[-1][1] == font:
            runs[-1] = (runs[-1][0] + char, font)
        else:
            runs.append((char, font))
    return runs


class _Layout:
    def __init__(self, default_font: str, size: float, measure: Measure, reading_scale: float) -> None:
        self.font = default_font
        self.size = size
        self.reading_size = max(8.0, round(size * reading_scale, 1))
        self.measure = measure

    def width(self, box: _Box) -> float:
        base = sum(self.measure(text, font, self.size)[0] for text, font in _runs(box.base))
        if box.kind != "ruby":
            return base
        reading = sum(self.measure(text, font, self.reading_size)[0] for text, font in _runs(box.reading))
        return max(base, reading)

    def lines(self, boxes: list[_Box], max_width: float | None) -> list[list[_Box]]:
        """Greedy line filling: whole space-separated words when they fit, else break inside them."""
        lines: list[list[_Box]] = [[]]
        used = 0.0
        pending_space: _Box | None = None
        for word in _words(boxes):
            if word[0].kind == "newline":
                lines.append([])
                used, pending_space = 0.0, None
                continue
            if word[0].kind == "space":
                pending_space = word[0] if lines[-1] else None
                continue
            space = self.width(pending_space) if pending_space is not None else 0.0
            total = sum(self.width(box) for box in word)
            if max_width is None or used + space + total <= max_width:
                if pending_space is not None:
                    lines[-1].append(pending_space)
                lines[-1].extend(word)
                used += space + total
            elif total <= max_width:
                lines.append(list(word))
                used = total
            else:  # a long stretch without spaces: break between characters
                for chunk in _chunks(word):
                    width = sum(self.width(box) for box in chunk)
                    if lines[-1] and used + space + width > max_width:
                        lines.append([])
                        used, pending_space, space = 0.0, None, 0.0
                    if pending_space is not None:
                        lines[-1].append(pending_space)
                        pending_space = None
                    lines[-1].extend(chunk)
                    used += space + width
                    space = 0.0
            pending_space = None
        return lines

    def place(self, lines: list[list[_Box]], max_width: float | None, halign: str) -> RubyLayout:
        reading_band = self.measure("あ", self.font, self.reading_size)[1]
        default_height = self.measure("あ", self.font, self.size)[1]
        rows: list[tuple[float, float, list[Placed]]] = []  # (width, height, items at x from 0, top from 0)
        for line in lines:
            while line and line[-1].kind == "space":
                line.pop()
            items: list[Placed] = []
            x = 0.0
            base_height = default_height
            merged = _merge(line)
            for index, box in enumerate(merged):
                if box.kind != "ruby":
                    for text, font in _runs(box.base):
                        width, height = self.measure(text, font, self.size)
                        items.append(Placed(text, font, self.size, x, 0.0, width, height, "text"))
                        x += width
                        base_height = max(base_height, height)
                    continue
                bases = [(text, font, *self.measure(text, font, self.size)) for text, font in _runs(box.base)]
                readings = [
                    (text, font, *self.measure(text, font, self.reading_size))
                    for text, font in _runs(box.reading)
                ]
                base_width = sum(b[2] for b in bases)
                reading_width = sum(r[2] for r in readings)
                # A reading wider than its word may overhang neighbouring kana by up to one reading
                # character on each side (JIS X 4051), so that 新しい does not become 新 しい.
                excess = max(0.0, reading_width - base_width)
                left = min(excess / 2, self.reading_size) if _kana_at(merged, index - 1, -1) else 0.0
                right = min(excess / 2, self.reading_size) if _kana_at(merged, index + 1, 0) else 0.0
                box_width = max(base_width, reading_width - left - right)
                # The reading's centre is the word's centre.
                rx = x - left if excess else x + (base_width - reading_width) / 2
                bx = rx + (reading_width - base_width) / 2
                for text, font, width, height in bases:
                    items.append(Placed(text, font, self.size, bx, 0.0, width, height, "base", box.word))
                    bx += width
                    base_height = max(base_height, height)
                for text, font, width, height in readings:
                    top = reading_band - height  # bottom-aligned in the reading band
                    items.append(
                        Placed(text, font, self.reading_size, rx, top, width, height, "reading", box.word)
                    )
                    rx += width
                x += box_width
            # Base runs sit in the row under the reading band, centred vertically when fonts differ in height.
            placed = [
                item
                if item.role == "reading"
                else _moved(item, 0.0, reading_band + (base_height - item.height) / 2)
                for item in items
            ]
            rows.append((x, reading_band + base_height, placed))
        block_width = max_width if max_width is not None else max((row[0] for row in rows), default=0.0)
        out: list[Placed] = []
        top = 0.0
        for width, height, placed in rows:
            offset = {"center": (block_width - width) / 2, "right": block_width - width}.get(halign, 0.0)
            out.extend(_moved(item, offset, top) for item in placed)
            top += height
        return RubyLayout(block_width, top, tuple(out))


def _kana_at(boxes: list[_Box], index: int, end: int) -> bool:
    """Is `boxes[index]` plain text whose first (`end` 0) or last (`end` -1) character is kana?"""
    if not 0 <= index < len(boxes) or boxes[index].kind != "text" or not boxes[index].base:
        return False
    return "\u3041" <= boxes[index].base[end][0] <= "\u30fa"


def _moved(item: Placed, dx: float, dy: float) -> Placed:
    return Placed(
        item.text,
        item.font,
        item.size,
        item.x + dx,
        item.top + dy,
        item.width,
        item.height,
        item.role,
        item.word,
    )


def _words(boxes: list[_Box]) -> list[list[_Box]]:
    """Spaces and newlines alone, the boxes between them grouped."""
    words: list[list[_Box]] = []
    for box in boxes:
        if box.kind in ("space", "newline") or not words or words[-1][0].kind in ("space", "newline"):
            words.append([box])
        else:
            words[-1].append(box)
    return words


def _chunks(word: list[_Box]) -> list[list[_Box]]:
    """A word split where a line may break."""
    chunks = [[word[0]]]
    for before, after in itertools.pairwise(word):
        if _may_break(before, after):
            chunks.append([after])
        else:
            chunks[-1].append(after)
    return chunks


def _merge(line: list[_Box]) -> list[_Box]:
    """Adjacent plain boxes of a line joined (one run per font, fewer textures to draw)."""
    merged: list[_Box] = []
    for box in line:
        if box.kind in ("text", "space") and merged and merged[-1].kind == "text":
            merged[-1].base.extend(box.base)
        elif box.kind in ("text", "space"):
            merged.append(_Box("text", list(box.base)))
        else:
            merged.append(box)
    return merged


def layout_ruby(
    markup: str,
    *,
    font: str,
    size: float,
    measure: Measure,
    width: float | None = None,
    halign: str = "left",
    reading_scale: float = READING_SCALE,
) -> RubyLayout:
    """Lay out `markup` (Kivy markup with `{漢字|かんじ}` words) in lines at most `width` wide (None: no wrap).

    `font` is the label's font (outside `[font=…]` runs), `size` its font size (readings `reading_scale` of
    it), `measure` the size of a text in a font; returns the block's size and every run with its position.
    """
    engine = _Layout(font, size, measure, reading_scale)
    boxes = _boxes(markup, font)
    return engine.place(engine.lines(boxes, width), width, halign)
