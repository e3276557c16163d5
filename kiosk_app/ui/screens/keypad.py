"""Keypad: the 4-digit PIN (masked, tries left, last-try warning, forgot-PIN exit) or a payment slip number."""

from __future__ import annotations

from kiosk_app.flows import events as ev
from kiosk_app.flows.issuance import IssuanceView
from kiosk_app.ui.screens.base import FlowScreen

__all__ = ["KeypadScreen"]


class KeypadScreen(FlowScreen):
    """Digits 0–9, erase and confirm; the PIN is shown only as drawn dots (`PinDots`), never as text."""

    def refresh(self) -> None:
        view = self.controller.view()
        if view is None:
            return
        t = self.texts
        ids = self.ids
        ids.erase.text = t.t("button.erase")
        ids.confirm.text = t.t("button.next")
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
