"""The 手続きガイド flow (issue 19): questions one at a time, show-when, わからない, the visit plan, outputs, stats.

Driven with the catalog the repository ships (life events and questions are looked up, not hard-coded) and a
fake clock; the runner's answers are sent as events.
"""

from __future__ import annotations

from typing import Any

import pytest

from kiosk_app.flows import commands as cmd
from kiosk_app.flows import events as ev
from kiosk_app.flows import guide_events as ge
from kiosk_app.flows import queue_events as qe
from kiosk_app.flows.clock import FakeClock
from kiosk_app.flows.core import Command, Tick
from kiosk_app.flows.guide_flow import GuideFlow, GuideSettings, GuideStep
from kiosk_app.flows.guide_plan import ticket_plan
from madoguchi.contracts.catalog import Catalog, load_sample_catalog
from madoguchi.contracts.catalog_guide import Answer, GuideStatus, ProcedureGuide
from madoguchi.contracts.messages import PERSONAL_KEYS
from tests.ui.guide_scenario import busiest_event

S = GuideStep


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_sample_catalog()


class Guide:
    """A guide flow with its clock and every command it returned."""

    def __init__(self, catalog: Catalog, guide: ProcedureGuide | None = None) -> None:
        self.clock = FakeClock()
        if guide is None:
            self.flow = GuideFlow.for_catalog(catalog, self.clock)
        else:
            self.flow = GuideFlow(guide, GuideSettings(), self.clock)
        self.commands: list[Command] = []

    def send(self, *events: Any) -> None:
        for event in events:
            self.commands += self.flow.handle(event)

    def answer_all(self, answer: Answer = Answer.YES) -> list[str]:
        asked = []
        while self.flow.step is S.QUESTION:
            question = self.flow.view().question
            assert question is not None
            asked.append(question.id)
            self.send(ge.AnswerQuestion(answer))
        return asked

    def stats(self) -> list[ge.GuideSessionStats]:
        return [
            c.stats
            for c in self.commands
            if isinstance(c, cmd.EmitStatistic) and isinstance(c.stats, ge.GuideSessionStats)
        ]


def _gated(catalog: Catalog) -> tuple[str, str, str]:
    """(life event, gating question, gated question) of a show-when rule in the catalog."""
    guide = catalog.procedures
    for question in guide.questions:
        for condition in question.show_when:
            return question.life_events[0], condition.question, question.id
    pytest.skip("the catalog has no show-when rule")


def test_questions_come_one_at_a_time_with_progress_and_back(catalog: Catalog) -> None:
    """GIVEN a life event with questions WHEN the resident answers THEN one question shows at a time with "2 / n",
    and back shows the previous question again with its answer forgotten."""
    g = Guide(catalog)
    g.send(ev.Start(), ge.ChooseLifeEvent(busiest_event(catalog.procedures)))
    first = g.flow.view()
    assert g.flow.step is S.QUESTION and first.question is not None
    assert (first.number, first.total) == (1, first.total) and first.total >= 2
    g.send(ge.AnswerQuestion(Answer.NO))
    second = g.flow.view()
    assert second.question is not None and second.question.id != first.question.id and second.number == 2
    g.send(ev.Back())
    again = g.flow.view()
    assert again.question == first.question and again.number == 1 and g.flow.context.answers == {}
    g.send(ev.Back())
    assert g.flow.step is S.EVENTS


def test_a_show_when_question_is_asked_only_after_its_condition(catalog: Catalog) -> None:
    """GIVEN a question shown only when another was answered "yes" WHEN that one is answered yes THEN it is asked;
    answered わからない THEN it is never asked."""
    event, gate, gated = _gated(catalog)
    yes = Guide(catalog)
    yes.send(ev.Start(), ge.ChooseLifeEvent(event))
    assert gated in yes.answer_all(Answer.YES)
    unknown = Guide(catalog)
    unknown.send(ev.Start(), ge.ChooseLifeEvent(event))
    asked = unknown.answer_all(Answer.UNKNOWN)
    assert gate in asked and gated not in asked


def test_i_dont_know_keeps_the_procedure_as_ask_at_the_counter(catalog: Catalog) -> None:
    """GIVEN procedures that depend on an answer WHEN the resident answers わからない THEN they stay listed as
    "窓口で確認"; answered "no" THEN they are dropped."""
    event = busiest_event(catalog.procedures)
    unknown = Guide(catalog)
    unknown.send(ev.Start(), ge.ChooseLifeEvent(event))
    unknown.answer_all(Answer.UNKNOWN)
    asked = {i.procedure.id: i.status for i in unknown.flow.view().items}
    conditional = [p for p, s in asked.items() if catalog.procedure(p).conditions]
    assert conditional and all(
        asked[p] is GuideStatus.ASK for p in conditional if catalog.procedure(p).route < 4
    )
    no = Guide(catalog)
    no.send(ev.Start(), ge.ChooseLifeEvent(event))
    no.answer_all(Answer.NO)
    listed = {i.procedure.id for i in no.flow.view().items}
    assert not listed & {
        p for p in conditional if all(c.answer == "yes" for c in catalog.procedure(p).conditions)
    }


def test_never_more_than_ten_questions(catalog: Catalog) -> None:
    """GIVEN a guide whose life event has 12 questions WHEN the resident answers THEN the result comes after 10."""
    base = catalog.procedures
    event = base.life_events[0].id
    template = base.questions[0]
    questions = [
        template.model_copy(update={"id": f"q{n}", "life_events": [event], "show_when": []})
        for n in range(12)
    ]
    g = Guide(catalog, base.model_copy(update={"questions": questions}))
    g.send(ev.Start(), ge.ChooseLifeEvent(event))
    assert len(g.answer_all()) == 10 and g.flow.step is S.RESULT
    assert g.flow.view().total == 0  # (no question shown any more)


def test_one_ticket_for_the_listed_counters_in_visit_order(catalog: Catalog) -> None:
    """GIVEN a result over several counters WHEN the resident takes a number THEN one TakeTicket asks for the first
    counter's category, then the other counters in visit order; route ④ only once kept."""
    g = Guide(catalog)
    g.send(ev.Start(), ge.ChooseLifeEvent(busiest_event(catalog.procedures)))
    g.answer_all(Answer.YES)
    view = g.flow.view()
    order = list(dict.fromkeys(i.counter.id for i in view.items if i.status is not GuideStatus.OPTIONAL))
    optional = [i for i in view.items if i.status is GuideStatus.OPTIONAL]
    if optional:
        g.send(ge.KeepOptional(optional[0].procedure.id))
        order = list(
            dict.fromkeys(
                i.counter.id
                for i in view.items
                if i.status is not GuideStatus.OPTIONAL or i.procedure.id == optional[0].procedure.id
            )
        )
    g.send(ge.TakeGuideTicket())
    (take,) = [c for c in g.commands if isinstance(c, qe.TakeTicket)]
    assert g.flow.step is S.TAKING and len(order) >= 2
    assert catalog.queue_category(take.category).counter == order[0]
    assert list(take.then) == order[1:]


def test_no_ticket_button_when_no_counter_issues_numbers(catalog: Catalog) -> None:
    """GIVEN counters without ticket categories WHEN the plan is made THEN there is none (the screen says where to go)."""
    items = catalog.procedures.results([busiest_event(catalog.procedures)], {})
    assert ticket_plan(items, set(), {}) is None
    assert ticket_plan(items, set(), {items[0].counter.id: "moving"}) is not None


def test_a_finished_guide_sends_one_anonymous_record(catalog: Catalog) -> None:
    """GIVEN a resident who prints, opens the phone link, takes a number and rates 4 WHEN the guide ends THEN one
    guide_session record carries outcome, language, events, questions, わからない questions, outputs and rating,
    and nothing personal; the session is forgotten."""
    g = Guide(catalog)
    event = busiest_event(catalog.procedures)
    g.flow.context.language = "vi"
    g.send(ev.Start(), ge.ChooseLifeEvent(event))
    first = g.flow.view().question
    assert first is not None
    g.send(ge.AnswerQuestion(Answer.UNKNOWN))
    asked = [first.id, *g.answer_all(Answer.YES)]
    g.send(
        ge.PrintList(),
        ev.PrintDone(),
        ge.ShowPhoneLink(),
        ge.PhoneLinkReady("https://x.example/guide/result"),
    )
    g.send(ev.Back(), ge.TakeGuideTicket(), qe.TicketIssued(qe.IssuedTicket("A-1", "moving", ())))
    g.send(ev.Confirm())
    assert g.flow.step is S.RATING
    g.send(ev.Rate(4))
    (record,) = g.stats()
    fields = record.to_stats_item(1, 0).fields
    assert fields["outcome"] == "completed" and fields["language"] == "vi" and fields["channel"] == "kiosk"
    assert fields["events"] == [event] and fields["questions_asked"] == len(asked)
    assert fields["unknown_questions"] == [first.id] and fields["rating"] == 4
    assert fields["outputs"] == ["print", "phone_qr", "ticket"]
    assert not {k.lower() for k in fields} & PERSONAL_KEYS
    assert g.flow.step is S.HOME and g.flow.context.answers == {} and g.flow.context.events == ()


def test_idle_resident_gets_more_time_then_the_session_is_wiped(catalog: Catalog) -> None:
    """GIVEN a resident who stops answering WHEN the idle timeout passes THEN "more time?" shows and 時間を延長
    resumes the same question; WHEN nobody answers again THEN home, an aborted record, nothing kept."""
    g = Guide(catalog)
    g.send(ev.Start(), ge.ChooseLifeEvent(busiest_event(catalog.procedures)), ge.AnswerQuestion(Answer.YES))
    shown = g.flow.view().question
    g.clock.advance(61)
    g.send(Tick())
    assert g.flow.step is S.MORE_TIME
    g.send(ev.MoreTime())
    assert g.flow.step is S.QUESTION and g.flow.view().question == shown
    g.clock.advance(61)
    g.send(Tick())
    g.clock.advance(31)
    g.send(Tick())
    (record,) = g.stats()
    assert g.flow.step is S.HOME and record.outcome.value == "aborted"
    assert record.fields()["abort_reason"] == "idle_timeout" and record.fields()["rating"] is None
    assert g.flow.context.answers == {} and not g.flow.context.started


def test_a_print_failure_returns_to_the_result_with_the_problem(catalog: Catalog) -> None:
    """GIVEN the result WHEN printing fails (or the printer never answers) THEN the result shows again with the
    problem, and print is not counted as an output."""
    g = Guide(catalog)
    g.send(ev.Start(), ge.ChooseLifeEvent(busiest_event(catalog.procedures)))
    g.answer_all(Answer.NO)
    g.send(ge.PrintList())
    (printing,) = [c for c in g.commands if isinstance(c, ge.PrintGuideList)]
    assert printing.events and g.flow.step is S.PRINTING
    g.send(ev.PrintFailed("paper_out"))
    assert g.flow.step is S.RESULT and g.flow.view().print_problem == "paper_out"
    g.send(ge.PrintList())
    g.clock.advance(46)
    g.send(Tick())
    assert g.flow.step is S.RESULT and g.flow.view().print_problem == "timeout"
    assert g.flow.context.outputs == []


def test_a_refused_ticket_is_explained_and_the_result_stays(catalog: Catalog) -> None:
    """GIVEN the central refuses the number WHEN the resident goes back THEN the result is there to try again."""
    g = Guide(catalog)
    g.send(ev.Start(), ge.ChooseLifeEvent(busiest_event(catalog.procedures)))
    g.answer_all(Answer.YES)
    g.send(ge.TakeGuideTicket(), qe.TicketRefused("daily_cap", "本日終了"))
    assert g.flow.step is S.TICKET_PROBLEM and g.flow.view().refusal_kind == "daily_cap"
    g.send(ev.Back())
    assert g.flow.step is S.RESULT and g.flow.view().plan is not None


def test_handing_over_to_prefill_ends_the_guide_only_with_forms(catalog: Catalog) -> None:
    """GIVEN the ticket screen WHEN the resident asks for help with the forms THEN the guide ends with its record
    when a listed procedure has a form, and ignores the tap otherwise."""
    guide = catalog.procedures
    for event in guide.life_events:
        g = Guide(catalog)
        g.send(ev.Start(), ge.ChooseLifeEvent(event.id))
        g.answer_all(Answer.YES)
        if g.flow.view().plan is None:
            continue
        g.send(ge.TakeGuideTicket(), qe.TicketIssued(qe.IssuedTicket("A-1", "moving", ())))
        forms = g.flow.view().forms
        g.send(ge.HandOverToPrefill())
        assert (g.flow.step is S.HOME) == bool(forms), event.id
        assert len(g.stats()) == (1 if forms else 0)
