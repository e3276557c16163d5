"""書かない窓口 screens: consent (what is read, what is not), card, reading, choice print/counter, done and
notices. The PIN is typed on `prefill_pin` (the keypad). The screen shows no card data except the masked
name on the choice, and nothing at all once the card left early or the session ended."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kiosk_app.flows import events as ev
from kiosk_app.flows import prefill_events as pe
from kiosk_app.flows.core import Event
from kiosk_app.flows.prefill_flow import PrefillStep, PrefillView
from kiosk_app.i18n import keys_prefill as k
from kiosk_app.ui.screens.base import FlowScreen
from kiosk_app.ui.text import Texts

__all__ = ["PrefillContent", "PrefillScreen", "prefill_content"]

S = PrefillStep


@dataclass(frozen=True)
class PrefillContent:
    """Texts (markup) and buttons (label markup, event) of one step."""

    title: str
    body: str = ""
    detail: str = ""
    alert: bool = False
    buttons: tuple[tuple[str, Event], ...] = ()


def _done(view: PrefillView, t: Texts) -> PrefillContent:
    if view.target is pe.PrefillTarget.COUNTER:
        body = t.t(k.DONE_COUNTER, number=view.number or "")
    else:
        body = t.t(k.DONE_PRINT)
    return PrefillContent(t.t(k.DONE_CARD), body, buttons=((t.t("button.ok"), ev.Confirm()),))


def prefill_content(view: PrefillView, t: Texts) -> PrefillContent:
    """What the prefill screen shows for `view`."""
    ok, cancel = (t.t("button.ok"), ev.Confirm()), (t.t("button.cancel"), ev.Cancel())
    step = view.step
    if step is S.CONSENT:
        return PrefillContent(
            t.t(k.CONSENT_TITLE),
            t.t(k.CONSENT_READ) + "\n" + t.t(k.CONSENT_NOT_READ),
            t.t(k.CONSENT_USE),
            buttons=((t.t(k.CONSENT_DECLINE), ev.Back()), (t.t(k.CONSENT_AGREE), ev.Confirm())),
        )
    if step is S.INSERT_CARD:
        return PrefillContent(t.t(k.INSERT_CARD), buttons=((t.t("button.back"), ev.Back()), cancel))
    if step is S.CHECKING_TRIES:
        return PrefillContent(t.t(k.CHECKING))
    if step is S.READING:
        return PrefillContent(t.t(k.READING))
    if step is S.CHOOSE_TARGET:
        buttons: list[tuple[str, Event]] = [
            (t.t(k.CHOOSE_PRINT), pe.ChoosePrefillTarget(pe.PrefillTarget.PRINT))
        ]
        if view.can_attach:
            label = t.t(k.CHOOSE_COUNTER, number=view.number or "")
            buttons.append((label, pe.ChoosePrefillTarget(pe.PrefillTarget.COUNTER)))
        return PrefillContent(t.t(k.CHOOSE_TITLE, name=view.masked_name), buttons=(*buttons, cancel))
    if step is S.PRINTING:
        return PrefillContent(t.t(k.PRINTING))
    if step is S.ATTACHING:
        return PrefillContent(t.t(k.ATTACHING))
    if step is S.DONE:
        return _done(view, t)
    if step is S.LOCKED:
        return PrefillContent(t.t(k.LOCKED), alert=True, buttons=(ok,))
    if step is S.CARD_REMOVED:
        return PrefillContent(t.t(k.CARD_REMOVED), alert=True, buttons=(ok,))
    if step is S.FAILED:
        return PrefillContent(t.t(k.FAILED), alert=True, buttons=(ok,))
    return PrefillContent("")


class PrefillScreen(FlowScreen):
    """Title, text, detail and up to three buttons, from `prefill_content`."""

    def refresh(self) -> None:
        view = self.controller.view()
        if not isinstance(view, PrefillView):
            return  # the other flows have their own screens
        content = prefill_content(view, self.texts)
        self.ids.title.text = content.title
        self.ids.title.alert = content.alert
        self.ids.body.text = content.body
        self.ids.detail.text = content.detail
        self._events = [event for _label, event in content.buttons]
        labels = [label for label, _event in content.buttons]
        if labels != [b.text for b in reversed(self.ids.buttons.children)]:
            self.ids.buttons.clear_widgets()
            for index, label in enumerate(labels):
                self.ids.buttons.add_widget(self.button(label, self._press(index)))

    def _press(self, index: int) -> Callable[[], None]:
        return lambda: self.controller.send(self._events[index])
