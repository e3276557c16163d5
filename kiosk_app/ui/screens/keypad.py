"""Keypad: the 4-digit PIN (masked, tries left, last-try warning, forgot-PIN exit) or a payment slip number.

次へ and 訂正 must not look like digits: they are `KeypadAction` keys, rounded, in their own colours
(`Theme.confirm`, `Theme.erase`), with an arrow before the word.
"""

from __future__ import annotations

from typing import Any

from kivy.graphics import Color, RoundedRectangle
from kivy.properties import ColorProperty, OptionProperty

from kiosk_app.flows import events as ev
from kiosk_app.flows.issuance import IssuanceView
from kiosk_app.flows.register import RegisterView
from kiosk_app.ui.screens.base import FlowScreen
from kiosk_app.ui.theme import THEMES
from kiosk_app.ui.widgets import KButton

__all__ = ["KeypadAction", "KeypadScreen"]

ICONS = {"confirm": "→ ", "erase": "← "}


class KeypadAction(KButton):
    """A keypad key that is not a digit: a rounded key in the theme's `confirm` or `erase` colour.

    The theme gives every button `Theme.button`; this key reads which theme that is, takes its own
    colour from the same theme, draws it rounded and keeps the square button background transparent.
    """

    role = OptionProperty("confirm", options=("confirm", "erase"))
    fill = ColorProperty((0, 0, 0, 1))

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        with self.canvas.before:
            self._color = Color(rgba=self.fill)
            self._shape = RoundedRectangle(pos=self.pos, size=self.size, radius=[self._radius()])
        self.fbind("pos", self._redraw)
        self.fbind("size", self._redraw)
        self.fbind("fill", self._redraw)
        self.fbind("state", self._redraw)
        self.fbind("background_color", self._follow_theme)
        self._follow_theme()

    def _radius(self) -> float:
        return float(min(self.width, self.height)) * 0.45

    def _follow_theme(self, *_args: Any) -> None:
        colour: tuple[float, ...] = tuple(self.background_color)  # type: ignore[has-type]
        if colour[3] == 0:
            return
        theme = next((t for t in THEMES if _close(t.button, colour)), THEMES[0])
        self.fill = getattr(theme, self.role)
        self.background_color = (0, 0, 0, 0)

    def _redraw(self, *_args: Any) -> None:
        pressed = 0.8 if self.state == "down" else 1.0
        r, g, b, a = self.fill
        self._color.rgba = (r * pressed, g * pressed, b * pressed, a)
        self._shape.pos = self.pos
        self._shape.size = self.size
        self._shape.radius = [self._radius()]


def _close(a: Any, b: Any) -> bool:
    return all(abs(x - y) < 1e-3 for x, y in zip(a, b, strict=False))


class KeypadScreen(FlowScreen):
    """Digits 0–9, erase and confirm; the PIN is shown only as drawn dots (`PinDots`), never as text."""

    def refresh(self) -> None:
        view = self.controller.view()
        if not isinstance(view, IssuanceView | RegisterView):
            return  # the other flows have their own screens
        t = self.texts
        ids = self.ids
        ids.erase.text = t.data(ICONS["erase"]) + t.t("button.erase")
        ids.confirm.text = t.data(ICONS["confirm"]) + t.t("button.next")
        ids.back.text = t.t("button.back")
        ids.cancel.text = t.t("button.cancel")
        if isinstance(view, IssuanceView):
            ids.title.text = t.t("pin.title")
            tries = t.t("pin.tries_left", tries=view.tries_left) if view.tries_left is not None else ""
            ids.info.text = (t.t("pin.wrong") + "  " if view.pin_error else "") + tries
            ids.warning.text = t.t("pin.last_try") if view.last_try else ""
            ids.display.text = ""
            ids.dots.opacity = 1
            ids.dots.total, ids.dots.filled = view.pin_digits, view.pin_length
            ids.forgot.text = t.t("button.forgot_pin")
            ids.forgot.opacity, ids.forgot.disabled = 1, False
        else:
            ids.title.text = t.t("register.enter_code.title")
            ids.info.text = ""
            ids.warning.text = ""
            ids.display.text = view.code or "_"
            ids.dots.opacity = 0
            ids.forgot.text = ""
            ids.forgot.opacity, ids.forgot.disabled = 0, True

    def press(self, key: str) -> None:
        """A key of the keypad."""
        self.controller.send(ev.Digit(key))

    def send(self, name: str) -> None:
        """erase / confirm / back / cancel / forgot."""
        events = {
            "erase": ev.Erase(),
            "confirm": ev.Confirm(),
            "back": ev.Back(),
            "cancel": ev.Cancel(),
            "forgot": ev.ForgotPin(),
        }
        self.controller.send(events[name])
