"""Kiosk widgets: labels and buttons in the kiosk font that follow the theme and the large-text scale."""

from __future__ import annotations

from typing import Any

from kivy.graphics import Color, Ellipse, Line
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk_app.ui.fonts import UI_FONT
from kiosk_app.ui.ruby_label import RubyLabel
from kiosk_app.ui.theme import MIN_TOUCH_PX, Theme

__all__ = ["KButton", "KLabel", "PinDots", "apply_theme", "fit_height"]


def _markup_when_needed(widget: Label, text: str) -> None:
    # Markup labels render word by word and are much slower: only texts with tags or entities need it.
    widget.markup = "[" in text or "&" in text
    # Devanagari (नेपाली) needs complex shaping: conjuncts such as क्ष and vowel signs before the consonant.
    # SDL_ttf shapes with HarfBuzz for the label's script; other texts keep the default.
    script = "Deva" if any("\u0900" <= ch <= "\u097f" for ch in text) else "Latn"
    if widget.font_script_name != script:
        widget.font_script_name = script


class KLabel(RubyLabel):
    """A wrapping, centred label in the kiosk font (furigana above kanji); `base_size`: font size before scaling."""

    base_size = NumericProperty(40)
    alert = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("font_name", UI_FONT)
        kwargs.setdefault("halign", "center")
        kwargs.setdefault("valign", "middle")
        super().__init__(**kwargs)
        self.bind(size=self._wrap, text=_markup_when_needed)
        _markup_when_needed(self, self.text)

    def _wrap(self, *_args: Any) -> None:
        self.text_size = (self.width - 20, None)


class KButton(RubyLabel, Button):  # type: ignore[misc]
    """A large button (≥ 15 mm tall) in the kiosk font (furigana above kanji)."""

    base_size = NumericProperty(40)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("font_name", UI_FONT)
        kwargs.setdefault("halign", "center")
        kwargs.setdefault("valign", "middle")
        kwargs.setdefault("background_normal", "")
        kwargs.setdefault("size_hint_min_y", MIN_TOUCH_PX)
        super().__init__(**kwargs)
        self.bind(size=self._wrap, text=_markup_when_needed)
        _markup_when_needed(self, self.text)

    def _wrap(self, *_args: Any) -> None:
        self.text_size = (self.width - 16, None)


class PinDots(Widget):  # type: ignore[misc]
    """The masked PIN as drawn circles (filled per digit typed): no text to render on every key press."""

    filled = NumericProperty(0)
    total = NumericProperty(4)
    color = ColorProperty((0.08, 0.08, 0.1, 1))
    base_size = NumericProperty(72)  # diameter before the large-text scale

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(pos=self._draw, size=self._draw, filled=self._draw, total=self._draw, color=self._draw)
        self.bind(base_size=self._draw)

    def _draw(self, *_args: Any) -> None:
        total = max(1, int(self.total))
        diameter = min(self.base_size, self.height * 0.8, self.width / (total * 1.6))
        gap = diameter * 0.6
        left = self.center_x - (total * diameter + (total - 1) * gap) / 2
        bottom = self.center_y - diameter / 2
        self.canvas.clear()
        with self.canvas:
            Color(*self.color)
            for i in range(total):
                x = left + i * (diameter + gap)
                if i < self.filled:
                    Ellipse(pos=(x, bottom), size=(diameter, diameter))
                else:
                    Line(ellipse=(x + 2, bottom + 2, diameter - 4, diameter - 4), width=3)


def fit_height(widget: Label, minimum: float) -> Label:
    """Make a list row as tall as its wrapped text (at least `minimum`, e.g. the 15 mm touch size)."""
    widget.size_hint_y = None
    widget.fit_text = False  # the row grows with its text instead

    def resize(*_args: Any) -> None:
        widget.height = max(minimum, widget.texture_size[1] + 32)

    widget.bind(texture_size=resize)
    resize()
    return widget


def _set(widget: Widget, name: str, value: Any) -> None:
    # Assign only real changes: a colour or size assignment re-renders the label's texture (~10 ms each).
    current = getattr(widget, name)
    if isinstance(value, tuple):
        if [round(v, 4) for v in current] != [round(v, 4) for v in value]:
            setattr(widget, name, list(value))
    elif current != value:
        setattr(widget, name, value)


def apply_theme(root: Widget, theme: Theme, scale: float) -> None:
    """Set colours and scaled font sizes on every kiosk label and button under `root`."""
    for widget in root.walk(restrict=True):
        if isinstance(widget, KButton):
            _set(widget, "font_size", widget.base_size * scale)
            _set(widget, "background_color", theme.button if not widget.disabled else theme.background)
            _set(widget, "color", theme.button_text)
            _set(widget, "disabled_color", theme.disabled_text)
        elif isinstance(widget, PinDots):
            _set(widget, "color", theme.text)
        elif isinstance(widget, KLabel):
            _set(widget, "font_size", widget.base_size * scale)
            _set(widget, "color", theme.alert if widget.alert else theme.text)
