"""How many copies: minus, the count, plus, and the fee so far."""

from __future__ import annotations

from kiosk_app.flows import events as ev
from kiosk_app.flows.issuance import IssuanceView
from kiosk_app.ui.screens.base import FlowScreen

__all__ = ["CopiesScreen"]


class CopiesScreen(FlowScreen):
    """Copies 1..max of the chosen certificate."""

    def refresh(self) -> None:
        view = self.controller.view()
        if not isinstance(view, IssuanceView):
            return
        t = self.texts
        self.ids.title.text = t.t("copies.title")
        # "1 copy", "2 copies": the count-aware form of the language (`copies.count.one`)
        self.ids.count.text = t.t(t.translator.count_key("copies.count", view.copies), copies=view.copies)
        self.ids.fee.text = t.t("fee.total", fee=f"{view.fee_yen:,}")
        self.ids.minus.disabled = view.copies <= 1
        self.ids.plus.disabled = view.copies >= view.max_copies
        self.ids.back.text = t.t("button.back")
        self.ids.next.text = t.t("button.next")
        self.ids.cancel.text = t.t("button.cancel")

    def change(self, delta: int) -> None:
        """− or +."""
        view = self.controller.view()
        if isinstance(view, IssuanceView):
            self.controller.send(ev.SetCopies(view.copies + delta))

    def send(self, name: str) -> None:
        """back / next / cancel."""
        self.controller.send({"back": ev.Back(), "next": ev.Confirm(), "cancel": ev.Cancel()}[name])
