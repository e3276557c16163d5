"""Furigana (ruby) for やさしい日本語: `{漢字|かんじ}` in a message marks the reading of a word.

The kiosk screens draw the reading above the word (`kiosk_app.ui.ruby_label.RubyLabel`, which parses
this markup); printouts and logs use `parenthesized` or `plain`. `kivy_markup` (reading in small kana in
parentheses after the word) is only for a plain Kivy `Label` that cannot lay out ruby.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["RubySegment", "has_ruby", "kivy_markup", "parenthesized", "parse_ruby", "plain"]

_RUBY = re.compile(r"\{([^{}|]+)\|([^{}|]+)\}")


@dataclass(frozen=True)
class RubySegment:
    """A run of text, with its reading when it carries furigana."""

    text: str
    reading: str | None = None


def has_ruby(message: str) -> bool:
    """True when the message contains furigana markup."""
    return _RUBY.search(message) is not None


def parse_ruby(message: str) -> list[RubySegment]:
    """Split a message into plain runs and words with readings."""
    segments: list[RubySegment] = []
    position = 0
    for match in _RUBY.finditer(message):
        if match.start() > position:
            segments.append(RubySegment(message[position : match.start()]))
        segments.append(RubySegment(match.group(1), match.group(2)))
        position = match.end()
    if position < len(message):
        segments.append(RubySegment(message[position:]))
    return segments


def plain(message: str) -> str:
    """The message without readings: `{漢字|かんじ}` → `漢字`."""
    return _RUBY.sub(r"\1", message)


def parenthesized(message: str) -> str:
    """Readings in full-width parentheses: `{漢字|かんじ}` → `漢字（かんじ）`."""
    return _RUBY.sub(r"\1（\2）", message)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("[", "&bl;").replace("]", "&br;")


def kivy_markup(message: str, reading_scale: float = 0.55, font_size: float = 32) -> str:
    """Kivy markup (for a Label with `markup: True`): readings in small kana after each word."""
    size = max(8, round(font_size * reading_scale))
    parts = []
    for segment in parse_ruby(message):
        parts.append(_escape(segment.text))
        if segment.reading is not None:
            parts.append(f"[size={size}]({_escape(segment.reading)})[/size]")
    return "".join(parts)
