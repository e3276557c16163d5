"""The first-boot pairing screen: device id and pairing code typed on an on-screen keypad, then enrol.

Shown by `kiosk pair` (the image's `kiosk-pair.service`) when the card carried no `enrol.json`. Texts
are Japanese with English below: the people at this screen are branch-office IT staff or the vendor,
not residents. All state lives in `PairingForm`; this module only draws it and forwards taps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.clock import Clock
from kivy.graphics import Color, Rectangle
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from kiosk_app.enrolment.pairing import DEVICE_KEYS, PairingForm
from kiosk_app.ui.fonts import register_fonts
from kiosk_app.ui.theme import MIN_TOUCH_PX, NORMAL
from kiosk_app.ui.widgets import KButton, KLabel
from madoguchi.enrolment import PAIRING_ALPHABET

__all__ = ["PairingScreen"]

_ACTIVE = NORMAL.accent
_IDLE = NORMAL.button


class PairingScreen(BoxLayout):  # type: ignore[misc]
    """Title, the two fields (tap one to type into it), delete / pair, status, and the keypad for the field."""

    def __init__(
        self,
        form: PairingForm,
        on_paired: Callable[[], None] = lambda: None,
        landscape: bool | None = None,
        **kwargs: Any,
    ) -> None:
        register_fonts()
        if landscape is None:
            from kivy.core.window import Window

            landscape = Window.width > Window.height
        # Portrait (1080x1920): everything above the keypad. Landscape (1280x800): too short for that,
        # so the form is on the left and the keypad on the right.
        super().__init__(
            orientation="horizontal" if landscape else "vertical", padding=24, spacing=16, **kwargs
        )
        self.form = form
        self._on_paired = on_paired
        self._notified = False
        with self.canvas.before:
            Color(*NORMAL.background)
            self._bg = Rectangle(pos=self.pos, size=self.size)
        self.bind(pos=self._redraw, size=self._redraw)
        info = BoxLayout(orientation="vertical", spacing=12)
        if not landscape:
            info.size_hint_y, info.height = None, 140 + 100 + 3 * MIN_TOUCH_PX + 160 + 5 * 12
        info.add_widget(KLabel(text="端末の登録\nPair this kiosk", font_size=44, color=NORMAL.text,
                               size_hint_y=None, height=140))  # fmt: skip
        info.add_widget(KLabel(text="センターから伝えられたペアリングコードを入力してください\n"
                                    "Enter the pairing code the centre gave you",
                               font_size=26 if landscape else 30, color=NORMAL.text, size_hint_y=None, height=100))  # fmt: skip
        self.device = self._field(info, "端末ID / Device id", "device")
        self.code = self._field(info, "ペアリングコード / Pairing code", "code")
        actions = BoxLayout(size_hint_y=None, height=MIN_TOUCH_PX, spacing=12)
        self.delete = KButton(text="1字消す / Delete", font_size=32, background_color=_IDLE)
        self.delete.bind(on_release=lambda *_a: self._act(form.backspace))
        self.pair = KButton(text="登録する / Pair", font_size=36, background_color=_ACTIVE)
        self.pair.bind(on_release=lambda *_a: self._act(form.submit))
        actions.add_widget(self.delete)
        actions.add_widget(self.pair)
        info.add_widget(actions)
        self.status = KLabel(text="", font_size=28, color=NORMAL.text, size_hint_y=None, height=160)
        info.add_widget(self.status)
        self.keypad = GridLayout(cols=6 if landscape else 8, spacing=6)
        self.add_widget(info)
        self.add_widget(self.keypad)
        self._keys_for = ""
        self.refresh()
        Clock.schedule_interval(lambda _dt: self.refresh(), 0.2)

    def _field(self, parent: BoxLayout, title: str, name: str) -> KButton:
        row = BoxLayout(size_hint_y=None, height=MIN_TOUCH_PX, spacing=12)
        row.add_widget(KLabel(text=title, font_size=28, color=NORMAL.text, size_hint_x=0.4))
        value = KButton(text="", font_size=40, size_hint_x=0.6)
        value.bind(on_release=lambda *_a: self._act(lambda: setattr(self.form, "active", name)))
        row.add_widget(value)
        parent.add_widget(row)
        return value

    def _act(self, action: Callable[[], object]) -> None:
        action()
        self.refresh()

    def _redraw(self, *_args: Any) -> None:
        self._bg.pos, self._bg.size = self.pos, self.size

    def _build_keys(self) -> None:
        keys = DEVICE_KEYS if self.form.active == "device" else PAIRING_ALPHABET
        self.keypad.clear_widgets()
        for key in keys:
            button = KButton(text=key, font_size=40, background_color=_IDLE, size_hint_min_y=70)
            button.bind(on_release=lambda _b, k=key: self._act(lambda: self.form.press(k)))
            self.keypad.add_widget(button)
        self._keys_for = self.form.active

    def key(self, char: str) -> KButton:
        """The keypad button typing `char` (tests tap it)."""
        found: KButton = next(b for b in self.keypad.children if b.text == char)
        return found

    def refresh(self) -> None:
        """Draw the form's state: field values, the active field, the keypad and the outcome."""
        form = self.form
        if self._keys_for != form.active:
            self._build_keys()
        self.device.text = form.device_id or "—"
        self.code.text = form.shown_code() or "—"
        self.device.background_color = _ACTIVE if form.active == "device" else _IDLE
        self.code.background_color = _ACTIVE if form.active == "code" else _IDLE
        self.pair.disabled = form.busy
        outcome = form.outcome
        if form.busy:
            self.status.text = "登録しています… / Pairing…"
            self.status.color = NORMAL.text
        elif outcome is None:
            self.status.text = ""
        elif outcome.ok:
            self.status.text = f"登録しました / Paired\n{outcome.message}"
            self.status.color = NORMAL.text
            if not self._notified:
                self._notified = True
                self._on_paired()
        else:
            self.status.text = f"登録できません / Not paired\n{outcome.message}" + (
                f"\n→ {outcome.hint}" if outcome.hint else ""
            )
            self.status.color = NORMAL.alert
