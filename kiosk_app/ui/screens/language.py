"""Language choice: each language written in itself."""

from __future__ import annotations

from kiosk_app.flows import events as ev
from kiosk_app.ui.screens.base import FlowScreen
from madoguchi.contracts.languages import LANGUAGE_NAMES, LANGUAGES

__all__ = ["CURRENT_MARK", "NATIVE_NAMES", "LanguageScreen"]

NATIVE_NAMES = LANGUAGE_NAMES


CURRENT_MARK = "● "


class LanguageScreen(FlowScreen):
    """One button per language, the current one (picked on home) marked; back and cancel."""

    def refresh(self) -> None:
        t = self.texts
        self.ids.title.text = t.t("language.title")
        self.ids.grid.clear_widgets()
        current = self.controller.language
        for code in LANGUAGES:
            name = (CURRENT_MARK if code == current else "") + NATIVE_NAMES[code]
            self.ids.grid.add_widget(self.button(t.data(name), ev.ChooseLanguage(code), base_size=40))
        self.ids.back.text = t.t("button.back")
        self.ids.cancel.text = t.t("button.cancel")

    def back(self) -> None:
        """戻る."""
        self.controller.send(ev.Back())

    def cancel(self) -> None:
        """取消."""
        self.controller.send(ev.Cancel())
