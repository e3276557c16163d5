"""The procedure guide's steps for the every-screen check (`test_every_screen.py`): one path shows each of them.

Life events and questions come from the catalog the test runs with (no ids hard-coded): the life event with
the most questions, one answer わからない, the rest はい. Device and central answers are sent as the runner
would send them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kiosk_app.flows import events as ev
from kiosk_app.flows import guide_events as ge
from kiosk_app.flows import queue_events as qe
from kiosk_app.flows.core import TimedOut
from kiosk_app.flows.guide_flow import GuideStep
from madoguchi.contracts.catalog_guide import Answer, ProcedureGuide

__all__ = ["GUIDE_STEPS", "busiest_event", "guide"]

GUIDE_STEPS = {step.value for step in GuideStep} - {"home"}


def busiest_event(guide: ProcedureGuide) -> str:
    """The life event with the most questions (ties: catalog order)."""
    return max(
        (event.id for event in guide.life_events),
        key=lambda event: sum(event in q.life_events for q in guide.questions),
    )


def _stops(guide: ProcedureGuide, view: Any) -> tuple[qe.TicketStop, ...]:
    counters = [view.plan.category, *view.plan.then] if view.plan is not None else []
    found = {c.id: c for c in guide.counters}
    return tuple(qe.TicketStop(c, found[c].floor, found[c].number) for c in counters if c in found)


def guide(k: Any, language: str, visit: Callable[..., None]) -> None:
    """Home → life event → questions → result → more time → print (fails) → phone → ticket refused, then taken →
    rating → home."""
    controller = k.controller
    catalog = controller.catalog
    controller.set_home_language(language)
    k.tap_id("guide")
    visit(k)
    k.device(ge.ChooseLifeEvent(busiest_event(catalog.procedures)))
    first = True
    while controller.guide.step is GuideStep.QUESTION:
        visit(k, "first" if first else "")
        k.device(ge.AnswerQuestion(Answer.UNKNOWN if first else Answer.YES))
        first = False
    visit(k)
    k.device(TimedOut(GuideStep.RESULT.name))
    visit(k)
    k.device(ev.MoreTime(), ge.PrintList())
    visit(k)
    k.device(ev.PrintFailed("paper_out"))
    visit(k, "print-failed")
    k.device(ge.ShowPhoneLink())
    visit(k, "making")
    k.device(ge.PhoneLinkReady(""))
    visit(k, "unavailable")
    k.device(ge.PhoneLinkReady(f"https://madoguchi.example.jp/guide/result?ev=x&a=&lang={language}&cv=1"))
    visit(k)
    k.device(ev.Back(), ge.TakeGuideTicket())
    visit(k)
    k.device(qe.TicketRefused("daily_cap", "本日の受付は終了しました"))
    visit(k)
    k.device(ev.Back(), ge.TakeGuideTicket())
    view = controller.guide.view()
    ticket = qe.IssuedTicket("A-12", view.plan.category, _stops(catalog.procedures, view), 3, 10, 20)
    k.device(qe.TicketIssued(ticket))
    visit(k)
    k.device(ev.Confirm())
    visit(k)
    k.device(ev.Rate(4))
