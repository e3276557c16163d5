"""Lists to choose from: certificate types (refused ones explained), options, payment methods, order items."""

from __future__ import annotations

from kivy.uix.image import Image

from kiosk_app.flows import events as ev
from kiosk_app.flows.core import Event
from kiosk_app.flows.issuance import IssuanceView
from kiosk_app.flows.issuance_context import Step
from kiosk_app.flows.register import RegisterStep, RegisterView
from kiosk_app.i18n.keys import method_key
from kiosk_app.ui.qr import qr_texture
from kiosk_app.ui.screens.base import FlowScreen
from kiosk_app.ui.screens.message_content import counter_line, split_url
from kiosk_app.ui.text import Texts
from kiosk_app.ui.theme import MIN_TOUCH_PX
from kiosk_app.ui.widgets import KButton, KLabel, fit_height

__all__ = ["ChoicesScreen"]


class ChoicesScreen(FlowScreen):
    """A title, a scrolling list of rows and back / next / cancel."""

    def refresh(self) -> None:
        view = self.controller.view()
        if view is None:
            return
        t = self.texts
        rows = self.ids.rows
        rows.clear_widgets()
        self.ids.info.text = ""
        self.ids.back.text = t.t("button.back")
        self.ids.next.text = t.t("button.next")
        self.ids.cancel.text = t.t("button.cancel")
        self.ids.next.disabled = False
        self.ids.next.opacity = 1
        if isinstance(view, IssuanceView):
            self._certificate(view, t)
        elif isinstance(view, RegisterView):
            self._register(view, t)

    def _row_label(self, text: str) -> KLabel:
        label = KLabel(text=text, base_size=32)
        fit_height(label, 90)
        return label

    def _qr_row(self, url: str) -> Image:
        """A web address as a QR code for the resident's phone (a URL on a kiosk cannot be tapped)."""
        return Image(texture=qr_texture(url), size_hint_y=None, height=260, fit_mode="contain")

    def _row_button(self, text: str, event: Event, base_size: int = 36) -> KButton:
        widget = self.button(text, event, base_size=base_size)
        fit_height(widget, MIN_TOUCH_PX)
        return widget

    def _hide_next(self) -> None:
        self.ids.next.disabled = True
        self.ids.next.opacity = 0

    def _methods(self, methods: tuple[str, ...], t: Texts) -> None:
        self.ids.title.text = t.t("method.title")
        self.ids.info.text = t.t("fee.rules")
        for method in methods:
            self.ids.rows.add_widget(self._row_button(self._method_name(method, t), ev.ChooseMethod(method)))
        self._hide_next()

    def _method_name(self, method: str, t: Texts) -> str:
        catalog = self.controller.catalog
        if catalog is not None:
            try:
                return t.data(catalog.payment_method(method).names.text(self.controller.language))
            except LookupError:
                pass
        return t.t(method_key(method))

    def _certificate(self, view: IssuanceView, t: Texts) -> None:
        rows = self.ids.rows
        if view.step is Step.CHOOSE_TYPE:
            self.ids.title.text = t.t("type.title")
            for offer in view.offers:
                label = (
                    t.data(self._type_name(offer.type_id, offer.name))
                    + "\n"
                    + t.t("type.fee", fee=f"{offer.fee_yen:,}")
                )
                rows.add_widget(self._row_button(label, ev.ChooseType(offer.type_id)))
            for refusal in view.refused:
                name = self._type_name(refusal.type_id or "", refusal.type_id or "")
                text = t.data(name) + " — " + t.t("type.refused", reason=refusal.reason)
                place, url = split_url(refusal.where_to_go)
                counter = counter_line(t, self.controller.catalog, refusal.counter, self.controller.language)
                for line in (counter, t.t("where_to_go", place=place) if place else ""):
                    text += "\n" + line if line else ""
                if url:
                    text += "\n" + t.t("where_to_go.qr")
                rows.add_widget(self._row_label(text))
                if url:
                    rows.add_widget(self._qr_row(url))
            self._hide_next()
        elif view.step is Step.CHOOSE_OPTIONS:
            self.ids.title.text = t.t("options.title")
            chosen = dict(view.choices)
            current = next((o for o in view.offers if o.type_id == view.type_id), None)
            for option_id, choice_ids in current.options.items() if current else []:
                rows.add_widget(self._row_label(t.data(self._option_name(view.type_id, option_id))))
                for choice_id in choice_ids:
                    mark = "● " if chosen.get(option_id) == choice_id else "○ "
                    name = t.data(self._choice_name(view.type_id, option_id, choice_id))
                    rows.add_widget(self._row_button(mark + name, ev.ChooseOption(option_id, choice_id), 32))
        else:
            self._methods(view.methods, t)

    def _register(self, view: RegisterView, t: Texts) -> None:
        if view.step is RegisterStep.CHOOSE_METHOD:
            self._methods(view.methods, t)
            return
        self.ids.title.text = t.t("register.summary.title")
        for line in view.order.lines if view.order else ():
            self.ids.rows.add_widget(
                self._row_label(
                    t.t(
                        "register.summary.line",
                        name=self._fee_item_name(line.item_id, line.name),
                        quantity=line.quantity,
                        amount=f"{line.amount_yen:,}",
                    )
                )
            )
        if view.order:
            self.ids.info.text = t.t("fee.total", fee=f"{view.order.total_yen:,}")

    # names from the catalog when the controller has one, else what the central sent
    def _type_name(self, type_id: str, fallback: str) -> str:
        catalog = self.controller.catalog
        try:
            return catalog.name_of(type_id, self.controller.language) if catalog else fallback
        except LookupError:
            return fallback

    def _fee_item_name(self, item_id: str, fallback: str) -> str:
        """A register line's item in the resident's language (the central sends the Japanese name)."""
        catalog = self.controller.catalog
        try:
            return catalog.fee_item(item_id).names.text(self.controller.language) if catalog else fallback
        except LookupError:
            return fallback

    def _option_name(self, type_id: str | None, option_id: str) -> str:
        catalog = self.controller.catalog
        try:
            return (
                catalog.certificate_type(type_id or "").option(option_id).names.text(self.controller.language)
                if catalog
                else option_id
            )
        except (LookupError, ValueError):
            return option_id

    def _choice_name(self, type_id: str | None, option_id: str, choice_id: str) -> str:
        catalog = self.controller.catalog
        try:
            option = catalog.certificate_type(type_id or "").option(option_id) if catalog else None
            return option.choice(choice_id).names.text(self.controller.language) if option else choice_id
        except (LookupError, ValueError):
            return choice_id

    def send(self, name: str) -> None:
        """back / next / cancel."""
        self.controller.send({"back": ev.Back(), "next": ev.Confirm(), "cancel": ev.Cancel()}[name])
