"""Issue 19 end to end: the kiosk's procedure guide → one pre-queued number printed → 書かない窓口 attaches the card's
basic four to that visit → counter staff call it and see the data → the visit ends at its last counter → gone.

Real parts: Mosquitto with the central's queue and prefill RPC on one server (the queue core frozen at Monday
09:00 JST), the kiosk's controller and `DeviceRunner` (guide desk, ticket desk printing ESC/POS to the virtual
printer, the card through pyscard → pcscd → vpcd → the card emulator, `prefill.attach` over the kiosk's RPC
client), the central web under uvicorn on the same store, and Debian's Chromium under Playwright.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from central_broker.accounts import Role
from central_broker.broker import MosquittoBroker
from central_broker.prefill import PrefillRpc, PrefillStore
from central_broker.queue import Desk, Staff
from central_broker.queue_link import QueueHost
from central_broker.rpc_server import RpcServer
from central_broker.store import FleetStore
from kiosk_app.flows import events as ev
from kiosk_app.flows import guide_events as ge
from kiosk_app.flows import prefill_events as pe
from kiosk_app.flows.clock import monotonic_clock
from kiosk_app.flows.guide_flow import GuideStep
from kiosk_app.queue_client import QueueClient
from kiosk_app.rpc_client import RpcClient
from kiosk_app.runner import DeviceRunner, FolderA4, PcscCardSlot, RunnerParts
from kiosk_app.runner.outputs import ReceiptOutput
from kiosk_app.runner.prefill_client import PrefillClient
from kiosk_app.runner.queue_journal import QueueJournal
from kiosk_app.runner.queue_parts import QueueParts
from kiosk_app.ui.controller import KioskController, Service
from madoguchi.clock import SteppableClock
from madoguchi.config.broker import BrokerConfig
from madoguchi.config.central import local_central_config
from madoguchi.config.queue import QueueSection
from madoguchi.contracts.catalog import load_sample_catalog
from madoguchi.contracts.catalog_guide import Answer
from madoguchi.contracts.messages import StateMessage
from tests.fixtures.pcsc import InsertCard, PcscDaemon
from tests.fixtures.printing import VirtualPrinter
from tests.fixtures.web import BOARD_SECRET, RunningWeb, make_user
from tests.prefill_helpers import FIELDS, open_prefill
from tests.test_card_kiosk_session import Kiosk
from tests.test_queue_ticket_printing import _qr_codes
from tests.test_web_browser import browser, page, sign_in
from tests.test_web_queue_browser import _choose_counter

__all__ = ["browser", "page"]  # fixtures used here, defined with the other browser tests

pytestmark = [pytest.mark.slow, pytest.mark.mosquitto, pytest.mark.pcsc]

BRANCH = "本庁舎"
PUBLIC_URL = "https://madoguchi.city.example"
EVENT = "birth"  # 出生: 出生届 has a form; the visit goes to 市民課 (戸籍), then 保険年金課 and こども課


class Central:
    """The central's queue (with visit codes) and prefill services over Mosquitto, shown by the web."""

    def __init__(
        self, web: RunningWeb, store: FleetStore, broker: MosquittoBroker, clock: SteppableClock, folder: Path
    ) -> None:
        config = local_central_config(folder / "central", broker.url)
        config = config.model_copy(update={"queue": QueueSection(public_url=PUBLIC_URL)})
        self.host = QueueHost.build(config, store, web.ctx.catalog, publish=False, clock=clock)
        self.prefill: PrefillStore = open_prefill(self.host.queue, folder, clock)
        web.ctx.queue, web.ctx.prefill, web.ctx.board_secret = self.host.queue, self.prefill, BOARD_SECRET
        handlers = {**self.host.handlers, **PrefillRpc(self.host.queue, self.prefill).handlers()}
        self.server = RpcServer(BrokerConfig(url=broker.url), handlers, group=f"rpc-{uuid.uuid4().hex[:8]}")
        self.server.start()

    def stop(self) -> None:
        self.server.stop()
        self.host.queue.close()


@pytest.fixture
def central(
    web_server: RunningWeb,
    central_store: FleetStore,
    mosquitto: MosquittoBroker,
    queue_clock: SteppableClock,
    tmp_path: Path,
) -> Iterator[Central]:
    made = Central(web_server, central_store, mosquitto, queue_clock, tmp_path)
    yield made
    made.stop()


def _kiosk(
    central_store: FleetStore,
    broker: MosquittoBroker,
    reader: str,
    receipt: ReceiptOutput,
    folder: Path,
) -> tuple[Kiosk, RpcClient]:
    """A kiosk at `BRANCH` (its birth recorded), printing receipts on the virtual printer."""
    device_id = f"jp-131016-k{uuid.uuid4().int % 100:02d}"
    born = StateMessage(
        online=True, epoch=1, ts=int(time.time() * 1000), boot_id="boot", app_ver="1.0.0", branch=BRANCH
    )
    central_store.record_state(device_id, born)
    rpc = RpcClient.connect(device_id, BrokerConfig(url=broker.url), retry_s=1.0)
    journal = QueueJournal(folder / "offline.sqlite", status_url_base=f"{PUBLIC_URL}/q/")
    catalog = load_sample_catalog()
    parts = RunnerParts(
        catalog=catalog,
        card=PcscCardSlot(f"pcsc://{reader}", reader),
        a4=FolderA4(folder / "a4"),
        receipt=receipt,
        terminal=None,
        issuance=None,
        orders=None,
        queue=QueueParts(journal, QueueClient(rpc, timeout_s=10.0)),
        prefill=PrefillClient(rpc),
    )
    runner = DeviceRunner(parts)
    controller = KioskController.for_catalog(catalog, runner.execute, monotonic_clock)
    runner.attach(controller.post)
    runner.start()
    return Kiosk(controller, runner), rpc


def test_guide_ticket_prefill_and_counter_call_end_to_end(
    page: Page,
    central: Central,
    web_server: RunningWeb,
    central_store: FleetStore,
    mosquitto: MosquittoBroker,
    pcsc_daemon: PcscDaemon,
    insert_card: InsertCard,
    virtual_printer: VirtualPrinter,
    tmp_path: Path,
) -> None:
    """GIVEN a resident at the kiosk WHEN they answer the guide for a birth (one わからない) and take its number THEN
    one number is printed whose QR is the status page of the visit the central made for the guide's counters in
    visit order; WHEN they consent, read the card with the 券面事項入力補助 PIN and choose the counter THEN the basic
    four are attached to that visit; WHEN the first counter's staff call the next visit on the counter page THEN
    it is this number and, only now, its form data are offered and shown; the data survive the first counter's
    done and are deleted when the visit is done at its last counter: the page answers 409 and no row is left."""
    receipt = ReceiptOutput(virtual_printer.url)
    kiosk, rpc = _kiosk(central_store, mosquitto, pcsc_daemon.readers[0], receipt, tmp_path / "kiosk")
    queue = central.host.queue
    try:
        controller = kiosk.controller
        controller.start(Service.GUIDE)
        kiosk.tap(ge.ChooseLifeEvent(EVENT))
        first = True
        while controller.guide.step is GuideStep.QUESTION:
            kiosk.tap(ge.AnswerQuestion(Answer.UNKNOWN if first else Answer.YES))
            first = False
        plan = controller.guide.view().plan
        assert plan is not None and len(plan.then) >= 2
        route = [controller.catalog.queue_category(plan.category).counter, *plan.then]
        kiosk.tap(ge.TakeGuideTicket())
        kiosk.wait_for(GuideStep.TICKET.value)
        view = controller.guide.view()
        ticket = view.ticket
        assert ticket is not None and ticket.printed and not ticket.offline and "shussei" in view.forms

        (status_url,) = _qr_codes(virtual_printer.job_files()[-1])
        assert status_url.startswith(f"{PUBLIC_URL}/q/")
        visit = queue.visit_by_number(BRANCH, ticket.number)
        assert [stop.counter for stop in visit.stops] == route
        assert page.goto(status_url.removeprefix(PUBLIC_URL)) is not None
        assert ticket.number in page.inner_text("body")

        insert_card("valid-adult")
        kiosk.tap(ge.HandOverToPrefill())  # the ticket screen's 書かない窓口 button
        controller.start_prefill(view.forms, ticket)
        kiosk.wait_for("prefill_consent")
        kiosk.tap(ev.Confirm())
        kiosk.wait_for("prefill_pin")
        kiosk.tap(*(ev.Digit(d) for d in "1234"), ev.Confirm())
        kiosk.wait_for("prefill_choose")
        kiosk.tap(pe.ChoosePrefillTarget(pe.PrefillTarget.COUNTER))
        kiosk.wait_for("prefill_done", timeout=30)
        kiosk.tap(ev.Confirm())
        kiosk.wait_for("home")
        kiosk.runner.wait_idle()
    finally:
        kiosk.runner.stop()
        rpc.close()
        receipt.close()
    kept = central.prefill.read(visit.id)
    assert kept is not None and kept.fields == FIELDS

    name, password = make_user(web_server.ctx, Role.STAFF)
    web_server.ctx.accounts.change_branches(name, add=(BRANCH,), actor="test")
    sign_in(page, name, password)
    _choose_counter(page, route[0])
    assert page.query_selector("#prefill-link") is None  # not before the visit is called
    page.keyboard.press("n")
    page.wait_for_selector(f"#held-number:text('{ticket.number}')")
    page.click("#prefill-link a")
    page.wait_for_selector("#prefill-fields")
    assert page.inner_text("#prefill-name") == FIELDS.name
    assert page.inner_text("#prefill-address") == FIELDS.address
    page.click("#back-to-counter")
    page.wait_for_selector("#counter-live")
    page.keyboard.press("d")
    page.wait_for_selector("#nobody-called")
    assert central.prefill.read(visit.id) is not None, "deleted before the visit ended"

    staff = Staff("sato", BRANCH)
    for counter in route[1:-1]:  # the counters in between, served without a browser
        desk = Desk(BRANCH, counter)
        queue.open_desk(desk, staff)
        called = queue.call_next(desk, staff)
        assert called is not None and called.id == visit.id
        queue.done(desk, staff)
    _choose_counter(page, route[-1])
    page.keyboard.press("n")
    page.wait_for_selector(f"#held-number:text('{ticket.number}')")
    page.keyboard.press("d")
    page.wait_for_selector("#nobody-called")
    response = page.goto(f"/counter/prefill?visit_id={visit.id}")
    assert response is not None and response.status == 409
    assert FIELDS.name not in page.content()
    assert central.prefill.read(visit.id) is None
    assert queue.visit(visit.id).ended_at is not None
