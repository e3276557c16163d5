"""Missing-glyph (tofu) check on what the screens really show (kivy-testing.md §7).

Each character of each visible label is rendered alone in the font that label markup gives it and
compared with the rendering of U+F0000 (a private-use code point every font draws as `.notdef`).
"""

from __future__ import annotations

import functools
import re
from typing import Any

NOTDEF = "\U000f0000"
_TAG = re.compile(r"\[(/?)([a-z_]+)(?:=([^\]]*))?\]")
_ENTITIES = {"&bl;": "[", "&br;": "]", "&amp;": "&"}


def _pixels(char: str, font_name: str) -> bytes:
    from kivy.core.text import Label as CoreLabel

    label = CoreLabel(text=char, font_name=font_name, font_size=48)
    label.refresh()
    return bytes(label.texture.pixels)


@functools.cache
def has_glyph(char: str, font_name: str) -> bool:
    """True when `font_name` draws `char` differently from its `.notdef` box."""
    return _pixels(char, font_name) != _pixels(NOTDEF, font_name)


def chars_with_fonts(text: str, default_font: str, markup: bool) -> list[tuple[str, str]]:
    """(character, font) pairs as a Kivy label with this text and markup would draw them."""
    if not markup:
        return [(c, default_font) for c in text]
    out: list[tuple[str, str]] = []
    fonts = [default_font]
    position = 0
    for match in [*_TAG.finditer(text), None]:
        end = match.start() if match else len(text)
        chunk = text[position:end]
        for entity, value in _ENTITIES.items():
            chunk = chunk.replace(entity, value)
        out.extend((c, fonts[-1]) for c in chunk)
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


def tofu_in(root: Any) -> list[str]:
    """Descriptions of every character drawn as tofu under `root` (visible labels and buttons)."""
    from kivy.uix.label import Label

    problems = []
    for widget in root.walk(restrict=True):
        if not isinstance(widget, Label) or not widget.text or widget.opacity == 0:
            continue
        for char, font in chars_with_fonts(widget.text, widget.font_name, widget.markup):
            if char.isspace() or not char.isprintable():
                continue
            if not has_glyph(char, font):
                problems.append(f"{char!r} (U+{ord(char):04X}) in {font} in {widget.text[:40]!r}")
    return sorted(set(problems))
