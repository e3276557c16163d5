"""Home: the services of this kiosk and the language, in the language picked here; a line for staff while
the clock is not synchronised."""

from __future__ import annotations

from collections.abc import Callable

from kiosk_app.ui.controller import Service
from kiosk_app.ui.screens.base import FlowScreen
from kiosk_app.ui.screens.language import CURRENT_MARK, NATIVE_NAMES
from madoguchi.contracts.languages import LANGUAGES

__all__ = ["HomeScreen"]


class HomeScreen(FlowScreen):
    """Certificate issuance, register payment, a visit number (整理券), language buttons."""

    def refresh(self) -> None:
        t = self.texts
        ids = self.ids
        ids.title.text = t.t("home.title")
        ids.issuance.text = t.t("home.issuance")
        ids.register.text = t.t("home.register")
        ids.queue.text = t.t("home.queue")
        ids.queue.disabled = not self.controller.queue.context.settings.categories
        ids.guide.text = t.t("home.guide")
        ids.guide.disabled = not self.controller.guide.available
        online = self.controller.certificate.context.central_online
        clock = self.controller.clock_status
        ids.issuance.disabled = not online or not clock.plausible
        if not clock.plausible:
            ids.unavailable.text = t.t("home.clock_wrong")
        else:
            ids.unavailable.text = "" if online else t.t("home.issuance_unavailable")
        # For staff: the clock runs unsynchronised (the saved clock); residents go on.
        ids.clock_notice.text = "" if clock.synced or not clock.plausible else t.t("home.clock_unsynced")
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

    def start_queue(self) -> None:
        """The 番号札を取る button."""
        self.controller.start(Service.QUEUE)

    def start_guide(self) -> None:
        """The 手続きガイド button."""
        self.controller.start(Service.GUIDE)

    def start_register(self) -> None:
        """The payment button."""
        self.controller.start(Service.REGISTER)
