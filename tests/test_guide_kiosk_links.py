"""The guide's links on the kiosk: the phone link format, the web guide's visit code at the scanner, and the
ticket desk forwarding `then` and `visit_code` (never issuing a visit code offline)."""

from __future__ import annotations

from pathlib import Path

import pytest

from device_drivers.printer.document import Document
from device_drivers.printer.errors import PrinterNotReady
from kiosk_app.flows import events as ev
from kiosk_app.flows import guide_events as ge
from kiosk_app.flows import queue_events as qe
from kiosk_app.flows.clock import FakeClock
from kiosk_app.flows.core import Command, Event
from kiosk_app.flows.guide_plan import phone_link, public_base_of, visit_code_of
from kiosk_app.flows.queue_flow import QueueStep
from kiosk_app.rpc_client import RpcTimeout
from kiosk_app.runner.guide_desk import GuideDesk
from kiosk_app.runner.queue_journal import QueueJournal
from kiosk_app.runner.tickets import TicketDesk
from kiosk_app.ui.controller import KioskController, Service
from madoguchi.contracts.catalog import load_sample_catalog
from madoguchi.contracts.catalog_guide import Answer
from madoguchi.contracts.queue import BlockView, TakeParams, TicketView

CODE = "v1.eyJldiI6WyJ0ZW5ueXUiXX0.Zk3Qp9xL2mVb7RtY4w"


def test_the_phone_link_has_the_agreed_format() -> None:
    """GIVEN life events and answers WHEN the phone link is made THEN it is <base>/guide/result?ev=…&a=q:y|n|u…
    &lang=…&cv=…, and empty without a public address."""
    answers = [("has_card", Answer.YES), ("children", Answer.NO), ("dog", Answer.UNKNOWN)]
    link = phone_link("https://city.example/", ["moving_in"], answers, "ja-x-easy", 7)
    assert (
        link
        == "https://city.example/guide/result?ev=moving_in&a=has_card:y,children:n,dog:u&lang=ja-x-easy&cv=7"
    )
    assert phone_link("", ["moving_in"], answers, "ja", 7) == ""


@pytest.mark.parametrize(
    ("status_base", "public"),
    [
        ("https://madoguchi.city.example/q/", "https://madoguchi.city.example"),
        ("https://madoguchi.city.example/city/q/", "https://madoguchi.city.example/city"),
        ("https://q.example.jp/s/", "https://q.example.jp"),
        ("", ""),
        ("not a url", ""),
    ],
)
def test_the_public_address_comes_from_the_status_page_address(status_base: str, public: str) -> None:
    """GIVEN the status page address the kiosk learnt WHEN the guide needs the public address THEN it is derived."""
    assert public_base_of(status_base) == public


@pytest.mark.parametrize(
    ("scanned", "code"),
    [
        (f"https://madoguchi.city.example/guide/v/{CODE}", CODE),
        (f"https://madoguchi.city.example/city/guide/v/{CODE}/", CODE),
        ("P12345678", None),
        ("MDG1:P1234", None),
        ("https://madoguchi.city.example/q/abc", None),
        ("https://madoguchi.city.example/guide/v/", None),
        ("https://madoguchi.city.example/guide/v/bad code", None),
    ],
)
def test_only_a_web_guide_visit_code_is_recognised(scanned: str, code: str | None) -> None:
    """GIVEN a scanned text WHEN the kiosk reads it THEN only `…/guide/v/<code>` is a visit code."""
    assert visit_code_of(scanned) == code


def _controller(commands: list[Command]) -> KioskController:
    return KioskController.for_catalog(load_sample_catalog(), commands.append, FakeClock())


def test_a_scanned_visit_code_takes_a_number_without_answering_again() -> None:
    """GIVEN the idle home screen WHEN the scanner reads a web guide's visit QR THEN one queue.take goes out with
    the code (the central derives category and counters), the ticket screen waits for it; a payment slip still
    starts the register."""
    commands: list[Command] = []
    controller = _controller(commands)
    controller.set_home_language("pt")
    controller.send(ev.SlipScanned(f"https://madoguchi.city.example/guide/v/{CODE}"))
    (take,) = [c for c in commands if isinstance(c, qe.TakeTicket)]
    assert take.visit_code == CODE and take.language == "pt" and take.then == ()
    assert controller.active is Service.QUEUE and controller.queue.step is QueueStep.TAKING
    assert controller.screen() == "ticket"
    controller.send(qe.TicketRefused("visit_code_invalid", ""))
    controller.send(ev.Confirm())
    assert controller.active is None
    controller.send(ev.SlipScanned("P12345678"))
    assert controller.active is Service.REGISTER


class Centre:
    """`queue.take` recorded; the central never answers."""

    def __init__(self) -> None:
        self.taken: list[TakeParams] = []

    def take(self, params: TakeParams) -> TicketView:
        self.taken.append(params)
        raise RpcTimeout("queue.take: no answer")


class Paper:
    """A receipt printer that keeps what it printed, or is out of paper."""

    def __init__(self, fail: bool = False) -> None:
        self.printed: list[Document] = []
        self.fail = fail

    def print_document(self, document: Document) -> None:
        if self.fail:
            raise PrinterNotReady("paper out", code="printer.paper_out")
        self.printed.append(document)


def _desk(tmp_path: Path, events: list[Event]) -> tuple[TicketDesk, Centre]:
    journal = QueueJournal(tmp_path / "offline.sqlite")
    journal.set_block(BlockView(block=2, first=2001, last=2999))
    centre = Centre()
    return TicketDesk(load_sample_catalog(), journal, centre, Paper(), events.append), centre


def test_a_visit_code_is_never_issued_offline(tmp_path: Path) -> None:
    """GIVEN the central does not answer WHEN a visit code is scanned THEN no offline number (only the central can
    verify the code): the resident is told numbers cannot be issued."""
    events: list[Event] = []
    desk, centre = _desk(tmp_path, events)
    desk.take(qe.TakeTicket("moving", "ja", visit_code=CODE))
    assert centre.taken[0].visit_code == CODE
    assert events == [qe.TicketUnavailable("visit_code_offline")]


def test_an_offline_guide_ticket_keeps_the_counters_in_order(tmp_path: Path) -> None:
    """GIVEN the central does not answer WHEN the guide takes a number for three counters THEN the kiosk's own
    number lists them in order (and `then` went to the central first)."""
    events: list[Event] = []
    desk, centre = _desk(tmp_path, events)
    desk.take(qe.TakeTicket("moving", "en", then=("hoken", "kodomo")))
    assert centre.taken[0].then == ["hoken", "kodomo"]
    (issued,) = events
    assert isinstance(issued, qe.TicketIssued) and issued.ticket.offline
    assert [s.counter for s in issued.ticket.stops] == ["shimin_1", "hoken", "kodomo"]


def test_a_guide_list_the_printer_cannot_print_is_reported() -> None:
    """GIVEN a printer out of paper WHEN the list is printed THEN the flow hears PrintFailed with the problem."""
    events: list[Event] = []
    catalog = load_sample_catalog()
    desk = GuideDesk(catalog, Paper(fail=True), events.append)
    desk.execute(ge.PrintGuideList((catalog.procedures.life_events[0].id,), (), "ja"))
    assert events == [ev.PrintFailed("printer.paper_out")]
