"""迷わない窓口 end to end: the kiosk's procedure guide → the list printed → one number for the listed counters.

Real parts: Mosquitto, the central's queue RPC and queue core (tests/queue_link_env.py, clock frozen at Monday
09:00 JST), the kiosk's controller and guide flow, its `GuideDesk` and `TicketDesk` printing ESC/POS to the
virtual printer; the QR codes are decoded from the printed PNGs.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from device_drivers.printer.document import Document, Text
from kiosk_app.flows import commands as cmd
from kiosk_app.flows import events as ev
from kiosk_app.flows import guide_events as ge
from kiosk_app.flows import queue_events as qe
from kiosk_app.flows.clock import FakeClock
from kiosk_app.flows.core import Command
from kiosk_app.flows.guide_flow import GuideStep
from kiosk_app.queue_client import QueueClient
from kiosk_app.runner.guide_desk import GUIDE_COMMANDS, GuideDesk
from kiosk_app.runner.outputs import ReceiptOutput
from kiosk_app.runner.queue_journal import QueueJournal
from kiosk_app.runner.tickets import TicketDesk
from kiosk_app.ui.controller import KioskController, Service
from madoguchi.contracts.catalog import load_sample_catalog
from madoguchi.contracts.catalog_guide import Answer
from tests.fixtures.printing import VirtualPrinter
from tests.queue_link_env import BRANCH, PUBLIC_URL, QueueLinkEnv, queue_link
from tests.test_queue_ticket_printing import _qr_codes
from tests.ui.guide_scenario import busiest_event

__all__ = ["queue_link"]

pytestmark = [pytest.mark.slow, pytest.mark.mosquitto]


class Tee:
    """The receipt printer: every document printed on the virtual printer and kept for the texts."""

    def __init__(self, printer: ReceiptOutput) -> None:
        self.printer = printer
        self.printed: list[Document] = []

    def print_document(self, document: Document) -> None:
        self.printed.append(document)
        self.printer.print_document(document)


def test_guide_prints_the_list_and_one_number_for_the_counters_in_visit_order(
    tmp_path: Path, queue_link: QueueLinkEnv, virtual_printer: VirtualPrinter
) -> None:
    """GIVEN a kiosk on the broker WHEN a resident answers the guide in Vietnamese, prints the list and takes a
    number THEN the list's QR opens the same result (life event, answers, language, catalog version) at the
    central's public address; the central issues one number whose counters are the result's in visit order,
    printed with its status QR; and the guide ends with one record listing both outputs."""
    catalog = load_sample_catalog()
    link = queue_link.kiosk(BRANCH)
    receipt = ReceiptOutput(virtual_printer.url)
    paper = Tee(receipt)
    journal = QueueJournal(tmp_path / "offline.sqlite", status_url_base=f"{PUBLIC_URL}/q/")
    commands: list[Command] = []

    def execute(command: Command) -> None:
        commands.append(command)
        if isinstance(command, qe.TakeTicket):
            tickets.take(command)
        elif isinstance(command, GUIDE_COMMANDS):
            guide.execute(command)

    controller = KioskController.for_catalog(catalog, execute, FakeClock(), language="ja")
    tickets = TicketDesk(catalog, journal, QueueClient(link.rpc, timeout_s=10.0), paper, controller.post)
    guide = GuideDesk(catalog, paper, controller.post, journal.status_url_base)
    event = busiest_event(catalog.procedures)

    controller.set_home_language("vi")
    controller.start(Service.GUIDE)
    controller.send(ge.ChooseLifeEvent(event))
    answers = []
    while controller.guide.step is GuideStep.QUESTION:
        question = controller.guide.view().question
        assert question is not None
        answers.append(f"{question.id}:y")
        controller.send(ge.AnswerQuestion(Answer.YES))
    view = controller.guide.view()
    plan = view.plan
    assert plan is not None and plan.then, "the busiest life event should need more than one counter"
    route = [catalog.queue_category(plan.category).counter, *plan.then]
    assert route == list(dict.fromkeys(i.counter.id for i in view.items if i.procedure.route < 4))

    controller.send(ge.PrintList())
    controller.drain()
    assert controller.guide.view().printed
    (list_png,) = virtual_printer.job_files()
    (phone,) = _qr_codes(list_png)
    parts = urlsplit(phone)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{PUBLIC_URL}/guide/result"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {"ev": event, "a": ",".join(answers), "lang": "vi", "cv": str(catalog.version)}
    texts = [b.text for b in paper.printed[0].blocks if isinstance(b, Text)]
    first = view.items[0].procedure
    assert first.names.text("vi") in texts and first.names.text("ja") in texts

    controller.send(ge.TakeGuideTicket())
    controller.drain()
    receipt.close()
    assert controller.guide.step is GuideStep.TICKET
    ticket = controller.guide.view().ticket
    assert ticket is not None and ticket.printed and not ticket.offline
    assert [stop.counter for stop in ticket.stops] == route
    ticket_png = virtual_printer.job_files()[1]
    (status,) = _qr_codes(ticket_png)
    assert status.startswith(f"{PUBLIC_URL}/q/")
    printed = [b.text for b in paper.printed[1].blocks if isinstance(b, Text)]
    assert ticket.number in printed
    names = [catalog.counter(c).names.text("vi") for c in route]
    assert [n for n in names if any(n in line for line in printed)] == names

    controller.send(ev.Confirm())
    controller.send(ev.Rate(5))
    (record,) = [c.stats for c in commands if isinstance(c, cmd.EmitStatistic)]
    assert record.fields()["outputs"] == ["print", "ticket"] and record.fields()["rating"] == 5


def test_a_scanned_web_guide_visit_code_prints_the_number_for_its_counters(
    tmp_path: Path, queue_link: QueueLinkEnv, virtual_printer: VirtualPrinter
) -> None:
    """GIVEN a resident who answered the guide on the web WHEN the kiosk's scanner reads the visit QR on the home
    screen THEN the kiosk sends the code, the central derives the visit, and the number is printed with the
    result's counters in visit order and its status QR, without answering again."""
    from central_broker.guide import GuideInput
    from madoguchi.contracts.catalog_guide import GuideStatus

    catalog = load_sample_catalog()
    event = busiest_event(catalog.procedures)
    given = GuideInput(
        (event,), {q.id: Answer.YES for q in catalog.procedures.questions if event in q.life_events}
    )
    takes = queue_link.host.rpc.guide_takes
    assert takes is not None
    code = takes.codes.issue(given, catalog.version)
    assert code is not None
    link = queue_link.kiosk(BRANCH)
    receipt = ReceiptOutput(virtual_printer.url)
    journal = QueueJournal(tmp_path / "offline.sqlite")
    commands: list[Command] = []

    def execute(command: Command) -> None:
        commands.append(command)
        if isinstance(command, qe.TakeTicket):
            tickets.take(command)

    controller = KioskController.for_catalog(catalog, execute, FakeClock())
    tickets = TicketDesk(catalog, journal, QueueClient(link.rpc, timeout_s=10.0), receipt, controller.post)

    controller.set_home_language("ko")
    controller.send(ev.SlipScanned(f"{PUBLIC_URL}/guide/v/{code}"))
    controller.drain()
    receipt.close()
    (take,) = [c for c in commands if isinstance(c, qe.TakeTicket)]
    assert take.visit_code == code and take.language == "ko"
    assert controller.screen() == "ticket" and controller.step_name() == "queue_done"
    ticket = controller.queue.view().ticket
    assert ticket is not None and ticket.printed
    items = catalog.procedures.results(given.events, given.answers)
    expected = list(dict.fromkeys(i.counter.id for i in items if i.status is not GuideStatus.OPTIONAL))
    assert [stop.counter for stop in ticket.stops] == expected
    (png,) = virtual_printer.job_files()
    (status,) = _qr_codes(png)
    assert status.startswith(f"{PUBLIC_URL}/q/")
