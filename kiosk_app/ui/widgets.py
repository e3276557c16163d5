"""Kiosk widgets: labels and buttons in the kiosk font that follow the theme and the large-text scale."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, NumericProperty
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk_app.ui.fonts import UI_FONT
from kiosk_app.ui.theme import MIN_TOUCH_PX, Theme

__all__ = ["KButton", "KLabel", "apply_theme", "fit_height"]


def _markup_when_needed(widget: Label, text: str) -> None:
    # Markup labels render word by word and are much slower: only texts with tags or entities need it.
    widget.markup = "[" in text or "&" in text


class KLabel(Label):  # type: ignore[misc]
    """A wrapping, centred label in the kiosk font; `base_size` is its font size before scaling."""

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


class KButton(Button):  # type: ignore[misc]
    """A large button (≥ 15 mm tall) in the kiosk font."""

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


def fit_height(widget: Label, minimum: float) -> Label:
    """Make a list row as tall as its wrapped text (at least `minimum`, e.g. the 15 mm touch size)."""
    widget.size_hint_y = None

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
        elif isinstance(widget, KLabel):
            _set(widget, "font_size", widget.base_size * scale)
            _set(widget, "color", theme.alert if widget.alert else theme.text)
