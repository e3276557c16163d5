"""手続きガイド on the real screens, by touch: home → life event → questions → result → print, phone QR, ticket →
rating → home, with a screenshot and a missing-glyph check on every step.

The runner's real `GuideDesk` (list printed on a recording printer) and `TicketDesk` (a stub central answering
`queue.take` at the client boundary) answer the flow. Japanese and English always run;
`KIOSK_UI_ALL_LANGUAGES=1` adds the other languages. Life events and questions come from the catalog.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

import pytest

from device_drivers.printer.document import Document, Qr, Text
from kiosk_app.flows import commands as cmd
from kiosk_app.flows import guide_events as ge
from kiosk_app.flows import queue_events as qe
from kiosk_app.flows.clock import FakeClock
from kiosk_app.flows.core import Command
from kiosk_app.flows.guide_flow import GuideStep
from kiosk_app.i18n.keys import rating_key
from kiosk_app.runner.guide_desk import GUIDE_COMMANDS, GuideDesk
from kiosk_app.runner.tickets import TicketDesk
from kiosk_app.ui.controller import KioskController
from kiosk_app.ui.root import KioskRoot, build_root
from madoguchi.contracts.catalog import load_sample_catalog
from madoguchi.contracts.catalog_guide import Answer
from madoguchi.contracts.languages import LANGUAGES
from madoguchi.contracts.queue import CounterStop, TakeParams, TicketView
from tests.ui.conftest import SIZE, Ui
from tests.ui.guide_scenario import busiest_event
from tests.ui.tofu import tofu_in

ORIENTATION = "portrait" if SIZE == "1080x1920" else "landscape"
CHECKED = LANGUAGES if os.environ.get("KIOSK_UI_ALL_LANGUAGES") == "1" else ("ja", "en")
PUBLIC = "https://madoguchi.example.jp"
_TAGS = re.compile(r"\[[^\]]*\]|\{([^|}]*)\|[^}]*\}")


def _plain(markup: str) -> str:
    return _TAGS.sub(lambda m: m.group(1) or "", markup).replace("&bl;", "[").replace("&br;", "]")


class Centre:
    """`queue.take` as the central answers it: the counters of the visit in the order asked."""

    def __init__(self) -> None:
        self.taken: list[TakeParams] = []

    def take(self, params: TakeParams) -> TicketView:
        self.taken.append(params)
        catalog = load_sample_catalog()
        first = catalog.queue_category(params.category).counter
        now = int(time.time() * 1000)
        return TicketView(
            number="A-7",
            category=params.category,
            counters=[CounterStop(counter=c) for c in (first, *params.then)],
            people_ahead=2,
            wait_min_minutes=5,
            wait_max_minutes=15,
            issued_at=now,
            status_token="s" * 32,
            status_url=f"{PUBLIC}/q/{'s' * 32}",
            expires_at=now + 3_600_000,
        )


class Paper:
    """A receipt printer that keeps what it printed."""

    def __init__(self) -> None:
        self.printed: list[Document] = []

    def print_document(self, document: Document) -> None:
        self.printed.append(document)


class GuideKiosk:
    """The root widget with a controller whose runner is the real guide and ticket desks."""

    def __init__(self, ui: Ui, language: str) -> None:
        self.ui = ui
        self.catalog = load_sample_catalog()
        self.centre, self.paper = Centre(), Paper()
        self.commands: list[Command] = []
        self.controller = KioskController.for_catalog(self.catalog, self.execute, FakeClock())
        post = self.controller.post
        self.tickets = TicketDesk(self.catalog, None, self.centre, self.paper, post)
        self.guide = GuideDesk(self.catalog, self.paper, post, lambda: f"{PUBLIC}/q/")
        self.root: KioskRoot = ui.mount(build_root(self.controller))
        self.controller.set_home_language(language)
        self.language = language

    def execute(self, command: Command) -> None:
        self.commands.append(command)
        if isinstance(command, qe.TakeTicket):
            self.tickets.take(command)
        elif isinstance(command, GUIDE_COMMANDS):
            self.guide.execute(command)

    def settle(self) -> None:
        self.controller.drain()
        self.ui.frames(2)

    def tap(self, widget: Any) -> None:
        self.ui.tap(widget)
        self.settle()

    def texts(self) -> str:
        from kivy.uix.label import Label

        return "\n".join(
            _plain(w.text)
            for w in self.root.screen().walk(restrict=True)
            if isinstance(w, Label) and w.opacity
        )

    def button(self, fragment: str) -> Any:
        from kivy.uix.button import Button

        found = [
            w
            for w in self.root.screen().walk(restrict=True)
            if isinstance(w, Button) and w.opacity and not w.disabled and fragment in _plain(w.text)
        ]
        assert found, f"no button with {fragment!r} on {self.controller.step_name()}: {self.texts()}"
        return found[0]

    def word(self, key: str, **params: object) -> str:
        return _plain(self.controller.translator().tr(key, **params))

    def shot(self) -> None:
        step = self.controller.step_name()
        self.ui.screenshot(f"guide-{self.language}-{ORIENTATION}-{step}")
        assert tofu_in(self.root) == [], f"missing glyphs on {step} in {self.language}"


@pytest.mark.parametrize("language", CHECKED)
def test_resident_goes_through_the_guide_by_touch(ui: Ui, language: str) -> None:
    """GIVEN the home screen in LANGUAGE WHEN a resident answers the guide by touch, prints the list, opens the
    phone QR and takes one number THEN each screen shows without tofu, the questions count "n / total", the list
    prints in the language and Japanese with the phone link as QR, the number is for the counters in visit
    order, and the rating ends at home with one anonymous record."""
    k = GuideKiosk(ui, language)
    catalog = k.catalog
    k.shot()
    k.tap(k.root.screen().ids.guide)
    assert k.root.manager.current == "guide"
    k.shot()
    event = busiest_event(catalog.procedures)
    life_event = next(e for e in catalog.procedures.life_events if e.id == event)
    k.tap(k.button(_plain(life_event.names.text(language))))
    view = k.controller.guide.view()
    assert k.word("guide.question.progress", number=1, total=view.total) in k.texts()
    k.shot()
    k.tap(k.button(k.word("guide.answer.unknown")))
    k.shot()
    for _answered in range(view.total + 10):
        if k.controller.guide.step is not GuideStep.QUESTION:
            break
        shown = k.controller.guide.view().question
        k.tap(k.button(k.word("guide.answer.yes")))
        assert k.controller.guide.view().question != shown, f"the はい tap was not received: {k.texts()}"
    assert k.controller.guide.step is GuideStep.RESULT
    k.shot()
    shown = k.texts()
    items = k.controller.guide.view().items
    first = items[0]
    assert _plain(first.procedure.names.text(language)) in shown
    assert first.counter.names.text(language) in shown

    k.tap(k.button(k.word("guide.button.print")))
    (paper,) = k.paper.printed
    lines = [b.text for b in paper.blocks if isinstance(b, Text)]
    assert first.procedure.names.text(language) in lines and first.procedure.names.text("ja") in lines
    (qr,) = [b for b in paper.blocks if isinstance(b, Qr)]
    assert qr.data.startswith(f"{PUBLIC}/guide/result?ev={event}&a=") and f"lang={language}" in qr.data
    assert k.word("guide.printed") in k.texts()
    k.shot()

    k.tap(k.button(k.word("guide.button.phone")))
    k.shot()
    from kivy.uix.image import Image

    assert [w for w in k.root.screen().walk(restrict=True) if isinstance(w, Image) and w.texture is not None]
    k.tap(k.root.screen().ids.back)

    k.tap(k.button(k.word("guide.button.ticket")))
    (taken,) = k.centre.taken
    plan = k.controller.guide.view().plan
    assert plan is not None and (taken.category, tuple(taken.then)) == (plan.category, plan.then)
    assert taken.language == language
    k.shot()
    assert "A-7" in k.texts()
    k.tap(k.root.screen().ids.ok)
    assert k.root.manager.current == "rating"
    k.shot()
    k.tap(k.button(k.word(rating_key(5))))
    assert k.root.manager.current == "home"
    (record,) = [c.stats for c in k.commands if isinstance(c, cmd.EmitStatistic)]
    assert isinstance(record, ge.GuideSessionStats) and record.rating == 5 and record.language == language
    assert record.outputs == ("print", "phone_qr", "ticket")


def test_the_ticket_screen_hands_the_forms_over_to_kakanai_madoguchi(ui: Ui) -> None:
    """GIVEN a result with a procedure that has an application form WHEN the resident takes the number and taps
    申請書の記入を手伝う THEN the guide ends (one record) and 書かない窓口 starts for exactly those procedures with
    that ticket; the next resident starting the guide sees a fresh life event list."""
    k = GuideKiosk(ui, "ja")
    guide = k.catalog.procedures
    with_form = [
        e.id
        for e in guide.life_events
        if any(i.procedure.form is not None for i in guide.results([e.id], {}))
    ]
    if not with_form:
        pytest.skip("no life event of the catalog lists a procedure with a form")
    k.tap(k.root.screen().ids.guide)
    k.controller.send(ge.ChooseLifeEvent(with_form[0]))
    while k.controller.guide.step is GuideStep.QUESTION:
        k.controller.send(ge.AnswerQuestion(Answer.YES))
    forms = k.controller.guide.view().forms
    assert forms
    k.settle()
    k.tap(k.button(k.word("guide.button.ticket")))
    assert k.controller.guide.step is GuideStep.TICKET
    k.tap(k.button(k.word("guide.button.prefill")))
    assert k.controller.active is not None and k.controller.active.value == "prefill"
    assert k.controller.prefill.context.procedures == forms
    assert k.controller.prefill.context.number == "A-7"
    assert k.controller.guide.step is GuideStep.HOME
    (record,) = [c.stats for c in k.commands if isinstance(c, cmd.EmitStatistic)]
    assert record.outcome.value == "completed" and record.outputs == ("ticket",)
