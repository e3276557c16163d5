"""The 手続きガイド flow (issue 19, kiosk-requirements.md §6, R-27–R-30).

home → life event → questions one at a time (はい / いいえ / わからない, back, at most 10) → the result by
counter → print it, show a QR for the phone, or take one ticket for the listed counters → rating → home.
The result is `ProcedureGuide.results` (the same logic as the web). One anonymous `guide_session`
statistic is emitted when the session ends; everything answered is forgotten then.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk_app.flows import commands as cmd
from kiosk_app.flows import events as ev
from kiosk_app.flows import guide_events as ge
from kiosk_app.flows import queue_events as qe
from kiosk_app.flows.clock import Clock
from kiosk_app.flows.core import RESUME, Command, Event, Machine, MachineSpec, StateSpec, TimedOut, Transition
from kiosk_app.flows.guide_context import GuideContext, GuideSettings, GuideStep, settings_for
from kiosk_app.flows.guide_plan import TicketPlan, forms_of, next_question, progress
from kiosk_app.flows.staff_call import handle_calling_staff
from kiosk_app.flows.stats import AbortReason, Outcome
from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.catalog_guide import Answer, GuideItem, LifeEvent, ProcedureGuide, Question
from madoguchi.contracts.languages import DEFAULT_LANGUAGE

__all__ = [
    "GuideContext",
    "GuideFlow",
    "GuideSettings",
    "GuideStep",
    "GuideView",
    "guide_screen",
    "settings_for",
]

_logger = logging.getLogger(__name__)


S = GuideStep
Ctx = GuideContext
Row = Transition[S, Ctx, Any]
EXTENDABLE = frozenset(
    {S.EVENTS, S.QUESTION, S.RESULT, S.PHONE, S.TICKET, S.TICKET_PROBLEM, S.RATING, S.MORE_TIME}
)
ASKING = frozenset({S.EVENTS, S.QUESTION, S.RESULT, S.PHONE})


def _choose(c: Ctx, e: ge.ChooseLifeEvent) -> None:
    c.events = (e.event_id,)
    c.answers.clear()
    c.kept.clear()


def _known_event(c: Ctx, e: ge.ChooseLifeEvent) -> bool:
    return c.guide is not None and any(le.id == e.event_id for le in c.guide.life_events)


def _answer(c: Ctx, e: ge.AnswerQuestion) -> None:
    question = c.question()
    if question is not None:
        c.answers[question.id] = e.answer


def _back_to_question(c: Ctx, _e: Event) -> bool:
    return bool(c.answers)


def _unanswer(c: Ctx, _e: Event) -> None:
    if c.answers:
        c.answers.pop(next(reversed(c.answers)))


def _keep(c: Ctx, e: ge.KeepOptional) -> None:
    c.kept.symmetric_difference_update({e.procedure_id})


def _take(c: Ctx) -> list[Command]:
    plan = c.plan()
    assert plan is not None
    return [qe.TakeTicket(plan.category, c.language, then=plan.then)]


def _print(c: Ctx) -> list[Command]:
    return [ge.PrintGuideList(c.events, c.answer_list(), c.language)]


def _printed(c: Ctx, _e: Event) -> None:
    c.printed, c.print_problem = True, ""
    c.output("print")


def _print_failed(problem: str | None = None) -> Callable[[Ctx, Any], None]:
    def action(c: Ctx, e: Any) -> None:
        c.printed, c.print_problem = False, problem or getattr(e, "problem", "") or "print_failed"

    return action


def _link(c: Ctx, e: ge.PhoneLinkReady) -> None:
    c.phone_url = e.url
    if e.url:
        c.output("phone_qr")


def _issued(c: Ctx, e: qe.TicketIssued) -> None:
    c.ticket = e.ticket
    c.output("ticket")


def _refused(c: Ctx, e: qe.TicketRefused) -> None:
    c.refusal_kind, c.refusal_detail, c.unavailable_reason = e.kind, e.detail, ""


def _unavailable(reason: str | None = None) -> Callable[[Ctx, Any], None]:
    def action(c: Ctx, e: Any) -> None:
        c.refusal_kind, c.refusal_detail = "", ""
        c.unavailable_reason = reason or getattr(e, "reason", "") or "unavailable"

    return action


def _rate(c: Ctx, e: ev.Rate) -> None:
    c.rating = e.stars


def _timed_out(c: Ctx, _e: Event) -> None:
    c.timed_out = True


def _finish(c: Ctx) -> list[Command]:
    """Entering home: one anonymous record of the session, then forget it."""
    if not c.started:
        return []
    completed = c.reached_result
    record = ge.GuideSessionStats(
        kind=ge.GUIDE_STATS_KIND,
        outcome=Outcome.COMPLETED if completed else Outcome.ABORTED,
        language=c.language,
        step_seconds=c.times.snapshot(),
        abort_reason=None
        if completed
        else (AbortReason.IDLE_TIMEOUT if c.timed_out else AbortReason.CANCELLED),
        rating=c.rating,
        events=c.events,
        questions_asked=len(c.answers),
        unknown_questions=tuple(q for q, a in c.answers.items() if a is Answer.UNKNOWN),
        outputs=tuple(c.outputs),
    )
    c.wipe()
    return [cmd.EmitStatistic(record)]


def _result_entered(c: Ctx) -> list[Command]:
    c.reached_result = True
    return []


def _states() -> list[StateSpec[S, Ctx]]:
    def idle(c: Ctx) -> float:
        return c.settings.idle_timeout_s

    def device(c: Ctx) -> float:
        return c.settings.device_timeout_s

    timeouts: dict[S, Callable[[Ctx], float]] = {
        **{step: idle for step in ASKING},
        S.PRINTING: device,
        S.TAKING: device,
        S.TICKET: lambda c: c.settings.done_s,
        S.TICKET_PROBLEM: idle,
        S.RATING: idle,
        S.MORE_TIME: lambda c: c.settings.more_time_s,
    }
    enter: dict[S, Callable[[Ctx], list[Command]]] = {
        S.HOME: _finish,
        S.RESULT: _result_entered,
        S.PRINTING: _print,
        S.PHONE: lambda c: [ge.MakePhoneLink(c.events, c.answer_list(), c.language)],
        S.TAKING: _take,
        S.TICKET: lambda c: [cmd.PlayCue("payment_done")],
    }
    return [
        StateSpec(step, timeouts.get(step), enter.get(step), step is S.MORE_TIME, step in EXTENDABLE)
        for step in S
    ]


def _transitions() -> list[Row]:
    return [
        Row(S.HOME, ev.Start, S.EVENTS, lambda c, e: c.guide is not None, lambda c, e: c.begin()),
        Row(S.EVENTS, ge.ChooseLifeEvent, S.QUESTION, lambda c, e: _known_event(c, e) and _more_after(c, e),
            _choose),
        Row(S.EVENTS, ge.ChooseLifeEvent, S.RESULT, _known_event, _choose),
        Row(S.EVENTS, ev.Back, S.HOME),
        Row(S.QUESTION, ge.AnswerQuestion, None, lambda c, e: _answers_to_more(c, e), _answer),
        Row(S.QUESTION, ge.AnswerQuestion, S.RESULT, None, _answer),
        Row(S.QUESTION, ev.Back, None, _back_to_question, _unanswer),
        Row(S.QUESTION, ev.Back, S.EVENTS),
        Row(S.RESULT, ev.Back, S.QUESTION, _back_to_question, _unanswer),
        Row(S.RESULT, ev.Back, S.EVENTS),
        Row(S.RESULT, ge.KeepOptional, None, None, _keep),
        Row(S.RESULT, ge.PrintList, S.PRINTING),
        Row(S.RESULT, ge.ShowPhoneLink, S.PHONE),
        Row(S.RESULT, ge.TakeGuideTicket, S.TAKING, lambda c, e: c.plan() is not None and c.ticket is None),
        Row(S.RESULT, ev.Confirm, S.RATING),
        Row(S.PRINTING, ev.PrintDone, S.RESULT, None, _printed),
        Row(S.PRINTING, ev.PrintFailed, S.RESULT, None, _print_failed()),
        Row(S.PRINTING, TimedOut, S.RESULT, None, _print_failed("timeout")),
        Row(S.PHONE, ge.PhoneLinkReady, None, None, _link),
        Row(S.PHONE, ev.Back, S.RESULT),
        Row(S.PHONE, ev.Confirm, S.RESULT),
        Row(S.TAKING, qe.TicketIssued, S.TICKET, None, _issued),
        Row(S.TAKING, qe.TicketRefused, S.TICKET_PROBLEM, None, _refused),
        Row(S.TAKING, qe.TicketUnavailable, S.TICKET_PROBLEM, None, _unavailable()),
        Row(S.TAKING, TimedOut, S.TICKET_PROBLEM, None, _unavailable("timeout")),
        Row(S.TICKET, ev.Confirm, S.RATING),
        Row(S.TICKET, ge.HandOverToPrefill, S.HOME, lambda c, e: bool(forms_of(c.items(), c.kept))),
        Row(S.TICKET, TimedOut, S.HOME),
        Row(S.TICKET_PROBLEM, ev.Back, S.RESULT),
        Row(S.TICKET_PROBLEM, ev.Confirm, S.RATING),
        Row(S.TICKET_PROBLEM, TimedOut, S.HOME, None, _timed_out),
        Row(S.RATING, ev.Rate, S.HOME, lambda c, e: 1 <= e.stars <= 5, _rate),
        Row(S.RATING, ev.SkipRating, S.HOME),
        Row(S.RATING, TimedOut, S.HOME),
        Row(frozenset(ASKING), TimedOut, S.MORE_TIME),
        Row(frozenset(EXTENDABLE - {S.MORE_TIME}), ev.Cancel, S.HOME),
        Row(S.MORE_TIME, ev.MoreTime, RESUME),
        Row(S.MORE_TIME, ev.Back, RESUME),
        Row(S.MORE_TIME, ev.Cancel, S.HOME),
        Row(S.MORE_TIME, TimedOut, S.HOME, None, _timed_out),
    ]  # fmt: skip


def _more_after(c: Ctx, e: ge.ChooseLifeEvent) -> bool:
    return c.guide is not None and next_question(c.guide, (e.event_id,), {}) is not None


def _answers_to_more(c: Ctx, e: ge.AnswerQuestion) -> bool:
    """True when another question follows this answer."""
    question = c.question()
    if question is None or c.guide is None:
        return False
    answers = {**c.answers, question.id: e.answer}
    return next_question(c.guide, c.events, answers) is not None


def _record_time(c: Ctx, step: S, seconds: float) -> None:
    if step is not S.HOME and c.started:
        c.times.add(step.value, seconds)


def build_guide_spec() -> MachineSpec[S, Ctx]:
    """The machine specification of the guide."""
    return MachineSpec(_states(), _transitions(), S.HOME, on_exit=_record_time)


@dataclass(frozen=True)
class GuideView:
    """What the guide screens show."""

    step: GuideStep
    time_left: float | None
    life_events: tuple[LifeEvent, ...] = ()
    events: tuple[str, ...] = ()
    question: Question | None = None
    number: int = 0  # 質問 number / total
    total: int = 0
    items: tuple[GuideItem, ...] = ()
    kept: frozenset[str] = frozenset()
    plan: TicketPlan | None = None
    printed: bool = False
    print_problem: str = ""
    phone_url: str | None = None
    ticket: qe.IssuedTicket | None = None
    refusal_kind: str = ""
    refusal_detail: str = ""
    unavailable_reason: str = ""
    forms: tuple[str, ...] = ()  # procedures of the visit with an application form (書かない窓口)
    interrupted: GuideStep | None = None


class GuideFlow:
    """The guide; feed events with `handle()`, draw from `view()`."""

    def __init__(
        self,
        guide: ProcedureGuide | None,
        settings: GuideSettings,
        clock: Clock,
        language: str = DEFAULT_LANGUAGE,
    ) -> None:
        self.context = GuideContext(settings=settings, guide=guide, language=language)
        self.machine: Machine[GuideStep, GuideContext] = Machine(build_guide_spec(), self.context, clock)

    @classmethod
    def for_catalog(cls, catalog: Catalog | None, clock: Clock, *, idle_timeout_s: float = 60.0) -> GuideFlow:
        """The guide of the catalog (None: the guide cannot start)."""
        guide = catalog.procedures if catalog is not None and catalog.procedures.life_events else None
        return cls(guide, settings_for(catalog, idle_timeout_s), clock)

    @property
    def step(self) -> GuideStep:
        """The current step."""
        return self.machine.state

    @property
    def available(self) -> bool:
        """True when the catalog has a guide with life events."""
        return self.context.guide is not None

    def handle(self, event: Event) -> list[Command]:
        """Process one event; return the commands for the runner."""
        return handle_calling_staff(self.machine, event)

    def view(self) -> GuideView:
        """A snapshot for the screens."""
        c = self.context
        step = self.machine.state
        shown = self.machine.interrupted if step is GuideStep.MORE_TIME else step
        question = c.question() if shown is GuideStep.QUESTION else None
        number, total = (0, 0)
        if question is not None and c.guide is not None:
            number, total = progress(c.guide, c.events, c.answers)
        items = (
            tuple(c.items()) if shown not in (GuideStep.HOME, GuideStep.EVENTS, GuideStep.QUESTION) else ()
        )
        return GuideView(
            step=step,
            time_left=self.machine.time_left(),
            life_events=tuple(c.guide.life_events) if c.guide is not None else (),
            events=c.events,
            question=question,
            number=number,
            total=total,
            items=items,
            kept=frozenset(c.kept),
            plan=c.plan() if items else None,
            printed=c.printed,
            print_problem=c.print_problem,
            phone_url=c.phone_url,
            ticket=c.ticket,
            refusal_kind=c.refusal_kind,
            refusal_detail=c.refusal_detail,
            unavailable_reason=c.unavailable_reason,
            forms=forms_of(items, c.kept),
            interrupted=self.machine.interrupted,
        )


def guide_screen(step: GuideStep) -> str:
    """The screen that shows a guide step (the rating reuses the rating screen)."""
    if step is GuideStep.HOME:
        return "home"
    return "rating" if step is GuideStep.RATING else "guide"
