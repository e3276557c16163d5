"""Missing-glyph (tofu) check on what the screens really show (kivy-testing.md §7).

Each character of each visible label is rendered alone in the font that label markup gives it and
compared with the rendering of U+F0000 (a private-use code point every font draws as `.notdef`).
"""

from __future__ import annotations

import functools
from typing import Any

from kiosk_app.ui.ruby_layout import markup_chars

NOTDEF = "\U000f0000"


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
    return markup_chars(text, default_font) if markup else [(c, default_font) for c in text]


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
