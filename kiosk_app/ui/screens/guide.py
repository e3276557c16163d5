"""手続きガイド: life events, one question at a time, the result by counter, the phone QR, the ticket.

Answers are three big buttons (はい / いいえ / わからない) with the progress above ("質問 2 / 5"); the
result lists each counter in visit order with its procedures (`guide_rows.py`) and offers the outputs:
print the list, a QR for the phone, one ticket for the listed counters. The rating reuses the rating
screen. Every step has back and cancel where they make sense; 時間を延長 is in the top bar.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from kivy.uix.image import Image
from kivy.uix.widget import Widget

from kiosk_app.flows import events as ev
from kiosk_app.flows import guide_events as ge
from kiosk_app.flows.core import Event
from kiosk_app.flows.guide_flow import GuideStep, GuideView
from kiosk_app.flows.queue_events import IssuedTicket
from kiosk_app.i18n.keys_guide import ANSWER_KEYS
from kiosk_app.i18n.keys_queue import refusal_key
from kiosk_app.ui.controller import KioskController
from kiosk_app.ui.fonts import FontFiles
from kiosk_app.ui.qr import qr_texture
from kiosk_app.ui.screens.base import FlowScreen
from kiosk_app.ui.screens.guide_rows import result_rows
from kiosk_app.ui.screens.message_content import counter_line
from kiosk_app.ui.text import Texts
from kiosk_app.ui.theme import MIN_TOUCH_PX
from kiosk_app.ui.widgets import KButton, KLabel, fit_height
from madoguchi.contracts.catalog_guide import Answer

__all__ = ["GuideScreen"]

ANSWER_PX = 140  # はい / いいえ / わからない
OUTPUT_PX = 110  # print, phone, ticket, 書かない窓口
Bar = tuple[tuple[str, Event | Callable[[], None]] | None, ...]  # back, ok, cancel slots
_ASK_BAR = ("button.back", ev.Back()), None, ("button.cancel", ev.Cancel())


class GuideScreen(FlowScreen):
    """Every guide step except the rating."""

    _drawn: tuple[Any, ...] = ()
    _answer_buttons: dict[str, list[KButton]]

    def setup(self, controller: KioskController, fonts: FontFiles) -> None:
        """Attach the controller and fonts; no answer buttons made yet."""
        super().setup(controller, fonts)
        self._answer_buttons = {}

    _actions: dict[str, Event | Callable[[], None]]

    def refresh(self) -> None:
        view = self.controller.view()
        if not isinstance(view, GuideView):
            return
        key = (replace(view, time_left=None), self.controller.language)
        if key == self._drawn:
            return  # nothing changed (a tick): keep the widgets
        self._drawn = key
        t = self.texts
        ids = self.ids
        ids.rows.clear_widgets()
        ids.outputs.clear_widgets()
        ids.side.clear_widgets()
        ids.outputs.height = 0
        for name in ("progress", "number", "info"):
            ids[name].text = ""
        step = view.step
        bar: Bar = (None, None, None)
        if step is GuideStep.EVENTS:
            bar = self._events(view, t)
        elif step is GuideStep.QUESTION:
            bar = self._question(view, t)
        elif step is GuideStep.RESULT:
            bar = self._result(view, t)
        elif step is GuideStep.PHONE:
            bar = self._phone(view, t)
        elif step in (GuideStep.PRINTING, GuideStep.TAKING):
            ids.title.text = t.t("guide.printing") if step is GuideStep.PRINTING else t.t("queue.taking")
        elif step is GuideStep.TICKET:
            bar = self._ticket(view, t)
        elif step is GuideStep.TICKET_PROBLEM:
            bar = self._ticket_problem(view, t)
        elif step is GuideStep.MORE_TIME:
            ids.title.text = t.t("more_time.title")
            ids.info.text = t.t("more_time.body", seconds=round(view.time_left or 0))
            bar = None, ("button.more_time", ev.MoreTime()), ("button.cancel", ev.Cancel())
            self._drawn = ()  # the seconds change every second
        self._bar(bar, t)

    # --- steps -----------------------------------------------------------------------------------------

    def _events(self, view: GuideView, t: Texts) -> Bar:
        self.ids.title.text = t.t("guide.events.title")
        self.ids.info.text = t.t("guide.events.info")
        language = self.controller.language
        for life_event in view.life_events:
            button = self.button(t.data(life_event.names.text(language)), ge.ChooseLifeEvent(life_event.id))
            button.base_size = 40
            fit_height(button, MIN_TOUCH_PX + 20)
            self.ids.rows.add_widget(button)
        return _ASK_BAR

    def _question(self, view: GuideView, t: Texts) -> Bar:
        question = view.question
        assert question is not None
        language = self.controller.language
        self.ids.progress.text = t.t("guide.question.progress", number=view.number, total=view.total)
        self.ids.title.text = t.data(question.text.text(language))
        notes = [t.data(question.help.text(language))] if question.help is not None else []
        self.ids.info.text = "\n".join([*notes, t.t("guide.unknown_note")])
        self._fill_outputs(self._answers(t), ANSWER_PX)  # always on screen, never scrolled away
        return _ASK_BAR

    def _result(self, view: GuideView, t: Texts) -> Bar:
        ids = self.ids
        ids.title.text = t.t("guide.result.title")
        notes = [t.t("guide.result.info") if view.items else t.t("guide.result.empty")]
        if view.printed:
            notes.append(t.t("guide.printed"))
        elif view.print_problem:
            notes.append(t.t("guide.print_failed"))
        if view.items and view.plan is None:
            notes.append(t.t("guide.no_ticket"))
        ids.info.text = "\n".join(notes)
        language = self.controller.language
        for row in result_rows(t, self.controller.catalog, view.items, view.kept, language, self.button):
            ids.rows.add_widget(row)
        outputs: list[KButton] = []
        if view.items:
            outputs.append(self.button(t.t("guide.button.print"), ge.PrintList(), base_size=30))
        outputs.append(self.button(t.t("guide.button.phone"), ge.ShowPhoneLink(), base_size=30))
        if view.plan is not None and view.ticket is None:
            outputs.append(self.button(t.t("guide.button.ticket"), ge.TakeGuideTicket(), base_size=30))
        self._fill_outputs(outputs, OUTPUT_PX, beside_list=True)
        return (
            ("button.back", ev.Back()),
            ("guide.button.finish", ev.Confirm()),
            ("button.cancel", ev.Cancel()),
        )

    def _phone(self, view: GuideView, t: Texts) -> Bar:
        ids = self.ids
        ids.title.text = t.t("guide.phone.title")
        if view.phone_url is None:
            ids.info.text = t.t("guide.phone.making")
        elif not view.phone_url:
            ids.info.text = t.t("guide.phone.unavailable")
        else:
            ids.info.text = t.t("guide.phone.info")
            side = min(self.width * 0.5, self.height * 0.3)  # fully on screen in both orientations
            ids.rows.add_widget(
                Image(texture=qr_texture(view.phone_url), size_hint_y=None, height=side, fit_mode="contain")
            )
        return ("button.back", ev.Back()), None, None

    def _ticket(self, view: GuideView, t: Texts) -> Bar:
        ticket = view.ticket
        assert ticket is not None
        ids = self.ids
        ids.title.text = t.t("queue.done.title", number=ticket.number)
        ids.number.text = t.data(ticket.number)
        notes = []
        if not ticket.printed:
            notes.append(t.t("queue.print_failed"))
        if ticket.offline:
            notes.append(t.t("queue.offline"))
        ids.info.text = "\n".join(notes)
        language = self.controller.language
        ids.rows.add_widget(self._row(t.t("queue.done.route")))
        for index, stop in enumerate(ticket.stops, start=1):
            place = counter_line(t, self.controller.catalog, stop.counter, language) or t.data(stop.counter)
            ids.rows.add_widget(self._row(f"{index}. {place}", 32))
        if ticket.people_ahead is not None:
            ids.rows.add_widget(self._row(t.t("queue.ahead", count=ticket.people_ahead)))
        if view.forms:
            forms = view.forms
            prefill = self.button(
                t.t("guide.button.prefill"), lambda: self._prefill(forms, ticket), base_size=30
            )
            self._fill_outputs([prefill], OUTPUT_PX)
        return None, ("button.ok", ev.Confirm()), None

    def _ticket_problem(self, view: GuideView, t: Texts) -> Bar:
        self.ids.title.text = t.t("queue.refused.title")
        if view.unavailable_reason:
            self.ids.info.text = t.t("queue.unavailable")
        else:
            self.ids.info.text = t.t(refusal_key(view.refusal_kind))
            if view.refusal_detail:
                self.ids.rows.add_widget(
                    self._row(t.t("queue.refused.detail", detail=view.refusal_detail), 28)
                )
        return ("button.back", ev.Back()), ("button.ok", ev.Confirm()), None

    # --- parts -----------------------------------------------------------------------------------------

    def _prefill(self, forms: tuple[str, ...], ticket: IssuedTicket) -> None:
        """End the guide (its record goes out), then 書かない窓口 for the procedures with a form and this ticket."""
        self.controller.send(ge.HandOverToPrefill())
        self.controller.start_prefill(forms, ticket)

    def _answers(self, t: Texts) -> list[KButton]:
        """はい / いいえ / わからない, made once per language (the next question then redraws only its texts)."""
        language = self.controller.language
        cached = self._answer_buttons.get(language)
        if cached is None:
            cached = [
                self.button(t.t(ANSWER_KEYS[a.value]), ge.AnswerQuestion(a), base_size=44) for a in Answer
            ]
            self._answer_buttons[language] = cached
        return cached

    def _row(self, text: str, base_size: int = 30) -> KLabel:
        label = KLabel(text=text, base_size=base_size)
        fit_height(label, 56)
        return label

    def _fill_outputs(self, buttons: list[KButton], height: float, *, beside_list: bool = False) -> None:
        """Buttons above the bar: stacked in portrait, side by side in landscape (or, `beside_list`, in a
        column right of the list)."""
        box = self.ids.outputs
        portrait = self.height > self.width
        if beside_list and not portrait:
            for button in buttons:
                button.size_hint_y, button.height = None, height
                self.ids.side.add_widget(button)
            self.ids.side.add_widget(Widget())  # the buttons stay at the top
            return
        box.orientation = "vertical" if portrait else "horizontal"
        for button in buttons:
            button.size_hint_y, button.height = None, height
            box.add_widget(button)
        gap = box.spacing
        box.height = len(buttons) * height + (len(buttons) - 1) * gap if portrait else height

    def _bar(self, bar: Bar, t: Texts) -> None:
        self._actions = {}
        for name, slot in zip(("back", "ok", "cancel"), bar, strict=True):
            button = self.ids[name]
            button.disabled = slot is None
            button.opacity = 0 if slot is None else 1
            button.text = "" if slot is None else t.t(slot[0])
            if slot is not None:
                self._actions[name] = slot[1]

    def press(self, name: str) -> None:
        """A bar button (back / ok / cancel) was released."""
        action = self._actions.get(name)
        if isinstance(action, Event):
            self.controller.send(action)
        elif action is not None:
            action()
