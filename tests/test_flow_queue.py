"""The 整理券 flow without screens: what is offered, what a closed category does, and every timeout."""

from __future__ import annotations

from kiosk_app.flows import events as ev
from kiosk_app.flows import queue_events as qe
from kiosk_app.flows.clock import FakeClock
from kiosk_app.flows.core import Command, Tick
from kiosk_app.flows.queue_flow import QueueFlow, QueueStep, offered_categories
from kiosk_app.ui.controller import KioskController, Service
from madoguchi.contracts.catalog import load_sample_catalog
from madoguchi.contracts.queue import CategoryLamp, Congestion, CongestionView


def _flow(clock: FakeClock) -> QueueFlow:
    return QueueFlow.for_catalog(load_sample_catalog(), clock)


def _closed(category: str) -> qe.CongestionChanged:
    lamp = CategoryLamp(
        category=category,
        level=Congestion.CALM,
        waiting=0,
        wait_min_minutes=0,
        wait_max_minutes=5,
        closed=True,
    )
    return qe.CongestionChanged(CongestionView(branch="honcho", at=1, categories=[lamp]))


def test_concierge_only_categories_are_not_offered() -> None:
    """GIVEN a catalog where 戸籍 is issued only at reception WHEN the kiosk lists categories THEN it is absent."""
    catalog = load_sample_catalog()
    queue = catalog.queue.model_copy(
        update={
            "categories": [
                c.model_copy(update={"concierge_only": c.id == "family_register"})
                for c in catalog.queue.categories
            ]
        }
    )
    offered = offered_categories(catalog.model_copy(update={"queue": queue}))
    assert "family_register" not in offered and "moving" in offered


def test_a_closed_category_cannot_be_taken_and_an_open_one_asks_the_runner() -> None:
    """GIVEN 引っ越し closed by the centre WHEN tapped THEN nothing happens; 証明書 asks for a number in the
    resident's language."""
    clock = FakeClock()
    flow = _flow(clock)
    flow.context.language = "vi"
    flow.handle(_closed("moving"))
    flow.handle(ev.Start())
    assert flow.handle(qe.ChooseCategory("moving")) == [] and flow.step is QueueStep.CATEGORIES
    assert flow.handle(qe.ChooseCategory("certificates")) == [qe.TakeTicket("certificates", "vi")]
    assert flow.step is QueueStep.TAKING


def test_no_answer_from_the_runner_ends_on_a_notice_then_home() -> None:
    """GIVEN a take that never answers WHEN its watchdog passes THEN the resident is told, then the kiosk goes
    home."""
    clock = FakeClock()
    flow = _flow(clock)
    flow.handle(ev.Start())
    flow.handle(qe.ChooseCategory("moving"))
    clock.advance(flow.context.settings.take_timeout_s + 1)
    flow.handle(Tick())
    assert flow.step is QueueStep.UNAVAILABLE and flow.view().unavailable_reason == "timeout"
    clock.advance(flow.context.settings.notice_s + 1)
    flow.handle(Tick())
    assert flow.step is QueueStep.HOME


def test_idle_on_the_categories_asks_for_more_time_then_goes_home() -> None:
    """GIVEN the category screen WHEN nobody touches it THEN "more time?" shows, then home."""
    clock = FakeClock()
    flow = _flow(clock)
    flow.handle(ev.Start())
    clock.advance(61)
    flow.handle(Tick())
    assert flow.step is QueueStep.MORE_TIME
    clock.advance(31)
    flow.handle(Tick())
    assert flow.step is QueueStep.HOME


def test_controller_runs_the_ticket_flow_from_home_and_back() -> None:
    """GIVEN the home screen in English WHEN a number is taken and OK pressed THEN the ticket screen shows, the
    runner is asked in English, and home comes back in the kiosk's language."""
    commands: list[Command] = []
    controller = KioskController.for_catalog(load_sample_catalog(), commands.append, FakeClock())
    controller.set_home_language("en")
    controller.start(Service.QUEUE)
    assert controller.screen() == "ticket"
    controller.send(qe.ChooseCategory("moving"))
    assert qe.TakeTicket("moving", "en") in commands
    ticket = qe.IssuedTicket("A-1", "moving", (qe.TicketStop("shimin_1", 1),))
    controller.send(qe.TicketIssued(ticket))
    assert controller.step_name() == "queue_done"
    controller.send(ev.Confirm())
    assert (controller.active, controller.screen(), controller.language) == (None, "home", "ja")
