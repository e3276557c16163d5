"""The 券面事項入力補助 PIN on the kiosk's keypad (its layout from `keypad.kv`): 4 digits as dots, the tries
left, and after a wrong PIN the keypad again with the tries now left (never retried by itself)."""

from __future__ import annotations

from kiosk_app.flows.prefill_flow import PrefillView
from kiosk_app.i18n import keys_prefill as k
from kiosk_app.ui.screens.keypad import ICONS, KeypadScreen

__all__ = ["PrefillPinScreen"]


class PrefillPinScreen(KeypadScreen):
    """The keypad for the prefill flow's PIN."""

    def refresh(self) -> None:
        view = self.controller.view()
        if not isinstance(view, PrefillView):
            return
        t = self.texts
        ids = self.ids
        ids.erase.text = t.data(ICONS["erase"]) + t.t("button.erase")
        ids.confirm.text = t.data(ICONS["confirm"]) + t.t("button.next")
        ids.back.text = t.t("button.back")
        ids.cancel.text = t.t("button.cancel")
        ids.title.text = t.t(k.PIN_TITLE)
        tries = t.t(k.PIN_TRIES, count=view.tries_left) if view.tries_left is not None else ""
        ids.info.text = (t.t(k.PIN_WRONG) + "  " if view.pin_error else "") + tries
        ids.warning.text = ""
        ids.display.text = ""
        ids.dots.opacity = 1
        ids.dots.total, ids.dots.filled = view.pin_digits, view.pin_length
        ids.forgot.text = ""
        ids.forgot.opacity, ids.forgot.disabled = 0, True
