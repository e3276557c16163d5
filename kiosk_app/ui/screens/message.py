"""The message screen: waits, notices and confirmations (title, text, up to three buttons)."""

from __future__ import annotations

from collections.abc import Callable

from kiosk_app.flows.issuance import IssuanceView
from kiosk_app.flows.register import RegisterView
from kiosk_app.ui.qr import qr_texture
from kiosk_app.ui.screens.base import FlowScreen
from kiosk_app.ui.screens.message_content import message_for
from madoguchi.contracts.catalog_rules import RuleKind

__all__ = ["MessageScreen"]


class MessageScreen(FlowScreen):
    """Shows `message_for(view)`; an instruction (paying, printing) as large as the title, right under it."""

    def refresh(self) -> None:
        view = self.controller.view()
        if not isinstance(view, IssuanceView | RegisterView):
            return  # the other flows have their own screens
        t = self.texts
        content = message_for(view, t, self._pin_help(), self.controller.catalog)
        self.ids.title.text = content.title
        self.ids.title.alert = content.alert
        self.ids.body.text = content.body
        self.ids.body.base_size = self.ids.title.base_size if content.emphasis else 40
        self.ids.detail.text = content.detail
        self.ids.qr.texture = qr_texture(content.qr) if content.qr else None
        self.ids.qr_caption.text = t.t("where_to_go.qr") if content.qr else ""
        # Rebuild the buttons only when they change: a new button costs a text rendering (~10 ms).
        self._events = [event for _key, event in content.buttons]
        labels = [t.t(key) for key, _event in content.buttons]
        if labels != [b.text for b in reversed(self.ids.buttons.children)]:
            self.ids.buttons.clear_widgets()
            for index, label in enumerate(labels):
                self.ids.buttons.add_widget(self.button(label, self._press(index)))

    def _pin_help(self) -> str:
        """Where to go about a forgotten or locked PIN, from the catalog's pin_locked rule (マイナンバー窓口)."""
        catalog = self.controller.catalog
        if catalog is None:
            return ""
        rule = next((r for r in catalog.eligibility_rules if r.kind is RuleKind.PIN_LOCKED), None)
        return rule.where_to_go.text(self.controller.language) if rule else ""

    def _press(self, index: int) -> Callable[[], None]:
        return lambda: self.controller.send(self._events[index])
