"""待たない窓口 end to end: a kiosk takes a number over MQTT, prints it, and the QR on the paper is the resident's
way to follow the visit in a real browser while counter staff call it and the display board shows it.

Real parts: Mosquitto, the central's queue RPC and the queue core (tests/queue_link_env.py, clock frozen at
Monday 09:00 JST), the kiosk's `TicketDesk` printing ESC/POS to the virtual printer, the QR decoded from the
printed PNG, the central web (uvicorn) on the same queue, Debian's Chromium under Playwright. The status URL's
public host (`PUBLIC_URL`) is mapped to the test's web server; its path and token are the printed ones.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import Browser, Page

from central_broker.broker import MosquittoBroker
from central_broker.queue import Desk, Staff
from central_broker.queue_link import QueueHost
from central_broker.rpc_server import RpcServer
from central_broker.store import open_store, sqlite_url
from central_broker.web.queue_common import board_key
from device_drivers.printer.document import Document, Qr
from kiosk_app.flows import queue_events as qe
from kiosk_app.flows.core import Event
from kiosk_app.queue_client import QueueClient
from kiosk_app.rpc_client import RpcClient
from kiosk_app.runner.outputs import ReceiptOutput
from kiosk_app.runner.queue_journal import QueueJournal
from kiosk_app.runner.queue_sync import QueueSync
from kiosk_app.runner.tickets import TicketDesk
from madoguchi.clock import SteppableClock
from madoguchi.config.broker import BrokerConfig
from madoguchi.config.central import local_central_config
from madoguchi.config.queue import QueueSection
from madoguchi.contracts.catalog import load_sample_catalog
from madoguchi.contracts.messages import StateMessage
from tests.fixtures.printing import VirtualPrinter
from tests.fixtures.queue import T0
from tests.fixtures.web import BOARD_SECRET, RunningWeb
from tests.queue_link_env import BRANCH, PUBLIC_URL, QueueLinkEnv, queue_link
from tests.test_queue_ticket_printing import _qr_codes
from tests.test_web_browser import WAIT_MS, browser

__all__ = ["browser", "queue_link"]  # fixtures used here, defined with the other tests

pytestmark = [pytest.mark.slow, pytest.mark.mosquitto]


@pytest.fixture
def served(queue_link: QueueLinkEnv, web_server: RunningWeb) -> Iterator[RunningWeb]:
    """The web server showing the queue the kiosk's RPC issues from."""
    web_server.ctx.queue = queue_link.host.queue
    web_server.ctx.board_secret = BOARD_SECRET
    yield web_server


def test_the_printed_qr_follows_the_visit_while_staff_call_it_and_the_board_shows_it(
    tmp_path: Path,
    queue_link: QueueLinkEnv,
    served: RunningWeb,
    virtual_printer: VirtualPrinter,
    browser: Browser,
) -> None:
    """GIVEN a kiosk on the broker WHEN a resident takes a number in Vietnamese THEN the centre's number is printed
    with a QR code to its status page; opened on a phone the page says waiting; WHEN counter staff call the number
    THEN the board shows it and the phone says "called at the counter" without a reload; WHEN staff finish THEN
    the phone says it is done."""
    link = queue_link.kiosk(BRANCH)
    events: list[Event] = []
    receipt = ReceiptOutput(virtual_printer.url)
    desk = TicketDesk(
        load_sample_catalog(),
        QueueJournal(tmp_path / "offline.sqlite"),
        QueueClient(link.rpc, timeout_s=10.0),
        receipt,
        events.append,
    )
    desk.take(qe.TakeTicket("moving", "vi"))
    receipt.close()
    (issued,) = events
    assert isinstance(issued, qe.TicketIssued) and issued.ticket.printed and not issued.ticket.offline
    number = issued.ticket.number
    (png,) = virtual_printer.job_files()
    (url,) = _qr_codes(png)
    assert url.startswith(f"{PUBLIC_URL}/q/")

    context = browser.new_context(base_url=served.url, viewport={"width": 390, "height": 844}, locale="en-US")
    context.set_default_timeout(WAIT_MS)
    hall_context = browser.new_context(base_url=served.url, viewport={"width": 1920, "height": 1080})
    hall_context.set_default_timeout(WAIT_MS)
    try:
        phone: Page = context.new_page()
        phone.goto(urlsplit(url).path + "?lang=en")
        phone.wait_for_selector("#status-panel[data-state=waiting]")
        assert phone.inner_text("#visit-number") == number
        phone.wait_for_selector("body[data-live-connected=yes]")
        phone.evaluate("window.__noReload = 'yes'")
        hall = hall_context.new_page()
        hall.goto(f"/board/{quote(BRANCH)}?key={board_key(BOARD_SECRET, BRANCH)}")
        hall.wait_for_selector("body[data-live-connected=yes]")

        queue = queue_link.host.queue
        counter, staff = Desk(BRANCH, "shimin_1"), Staff("sato", BRANCH)
        queue.open_desk(counter, staff)
        called = queue.call_next(counter, staff)
        assert called is not None and called.number == number
        hall.wait_for_selector(f"#now-number:text('{number}')")
        phone.wait_for_selector("#status-panel[data-state=called]")
        queue.start(counter, staff)
        queue.done(counter, staff)
        phone.wait_for_selector("#status-panel[data-state=done]")
        assert phone.evaluate("window.__noReload") == "yes", "the status page reloaded"
    finally:
        context.close()
        hall_context.close()


class Paper:
    """The kiosk's receipt printer as the ticket desk sees it (documents kept)."""

    def __init__(self) -> None:
        self.printed: list[Document] = []

    def print_document(self, document: Document) -> None:
        self.printed.append(document)

    def qr(self, index: int) -> str:
        (code,) = [b.data for b in self.printed[index].blocks if isinstance(b, Qr)]
        return code


def test_a_kiosk_issues_from_its_block_while_the_broker_is_stopped_and_the_centre_merges_them(
    tmp_path: Path, private_mosquitto: MosquittoBroker
) -> None:
    """GIVEN a kiosk that took a number online and holds its block WHEN the broker is stopped THEN residents still
    get numbers, from the kiosk's block, printed as offline; WHEN the broker is back THEN the kiosk resubmits
    them, the centre puts them into the counter's line with no number twice and none lost, their printed QR
    tokens open their status, and the kiosk's journal is empty."""
    clock = SteppableClock(base=lambda: T0)
    store = open_store(sqlite_url(tmp_path / "central" / "central.db"))
    config = local_central_config(tmp_path / "central", private_mosquitto.url)
    config = config.model_copy(update={"queue": QueueSection(public_url=PUBLIC_URL)})
    host = QueueHost.build(config, store, load_sample_catalog(), poll_s=0.2, clock=clock)
    broker = BrokerConfig(url=private_mosquitto.url)
    server = RpcServer(broker, host.handlers, group="rpc-e2e-offline")
    server.start()
    device = "jp-131016-k61"
    born = StateMessage(
        online=True, epoch=1, ts=int(time.time() * 1000), boot_id="b", app_ver="1.0.0", branch=BRANCH
    )
    store.record_state(device, born)
    rpc = RpcClient.connect(device, broker, retry_s=0.5)
    try:
        client = QueueClient(rpc, timeout_s=3.0)
        journal = QueueJournal(tmp_path / "offline.sqlite", clock=lambda: T0 + 30)
        sync = QueueSync(journal, client)
        paper, events = Paper(), list[Event]()
        desk = TicketDesk(load_sample_catalog(), journal, client, paper, events.append, sync=sync)
        desk.take(qe.TakeTicket("moving", "en"))
        assert sync.fetch_block()
        block = journal.block()
        assert block is not None

        private_mosquitto.stop()
        for _ in range(2):
            desk.take(qe.TakeTicket("moving", "en"))
        numbers = [e.ticket.number for e in events if isinstance(e, qe.TicketIssued)]
        offline = [f"A-{block.block * 1000 + 1}", f"A-{block.block * 1000 + 2}"]
        assert numbers[1:] == offline and all(
            e.ticket.offline for e in events[1:] if isinstance(e, qe.TicketIssued)
        )
        assert [t.number for t in journal.unmerged()] == offline
        reception = host.queue.take(BRANCH, "moving")  # the centre goes on meanwhile

        private_mosquitto.start()
        deadline = time.monotonic() + 30
        while journal.unmerged() and time.monotonic() < deadline:
            sync.sync_once()
            time.sleep(0.5)
        assert journal.unmerged() == []
        line = [v.number for v in host.queue.line(Desk(BRANCH, "shimin_1"))]
        assert sorted(line) == sorted([numbers[0], *offline, reception.visit.number])
        assert len(set(line)) == len(line) == 4
        for index in (1, 2):
            token = paper.qr(index).rsplit("/", 1)[-1]
            status = host.queue.status_by_token(token)
            assert status is not None and status.visit.number == numbers[index]
    finally:
        rpc.close()
        host.stop()
        server.stop()
        store.close()
