"""Home: the services of this kiosk and the language, in the language picked here."""

from __future__ import annotations

from collections.abc import Callable

from kiosk_app.ui.controller import Service
from kiosk_app.ui.screens.base import FlowScreen
from kiosk_app.ui.screens.language import CURRENT_MARK, NATIVE_NAMES
from madoguchi.contracts.languages import LANGUAGES

__all__ = ["HomeScreen"]


class HomeScreen(FlowScreen):
    """Certificate issuance, register payment, language buttons."""

    def refresh(self) -> None:
        t = self.texts
        ids = self.ids
        ids.title.text = t.t("home.title")
        ids.issuance.text = t.t("home.issuance")
        ids.register.text = t.t("home.register")
        online = self.controller.certificate.context.central_online
        ids.issuance.disabled = not online
        ids.unavailable.text = "" if online else t.t("home.issuance_unavailable")
        # The language buttons are written in their own languages; the one picked is marked.
        current = self.controller.home_language
        names = [(CURRENT_MARK if code == current else "") + NATIVE_NAMES[code] for code in LANGUAGES]
        if [b.text for b in reversed(ids.languages.children)] == [t.data(n) for n in names]:
            return
        ids.languages.clear_widgets()
        for code, name in zip(LANGUAGES, names, strict=True):
            ids.languages.add_widget(self.button(t.data(name), self._language(code), base_size=30))

    def _language(self, code: str) -> Callable[[], None]:
        return lambda: self.controller.set_home_language(code)

    def start_issuance(self) -> None:
        """The certificate button."""
        self.controller.start(Service.CERTIFICATE)

    def start_register(self) -> None:
        """The payment button."""
        self.controller.start(Service.REGISTER)
