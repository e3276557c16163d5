"""The visit ticket on paper: the runner's `TicketDesk` prints through the real ESC/POS encoder to the virtual
printer; the QR code is decoded from the rendered PNG; texts are in the resident's language and Japanese."""

from __future__ import annotations

import hashlib
import time
from datetime import datetime
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from device_drivers.printer import ReceiptPrinter, encode_job, profile_for
from device_drivers.printer.document import Text
from device_drivers.printer.strings import tr
from device_drivers.printer.visit_ticket import VisitStop, VisitTicket, visit_ticket_document
from kiosk_app.flows import queue_events as qe
from kiosk_app.flows.core import Event
from kiosk_app.runner.outputs import ReceiptOutput
from kiosk_app.runner.queue_journal import QueueJournal
from kiosk_app.runner.tickets import TicketDesk
from madoguchi.contracts.catalog import load_sample_catalog
from madoguchi.contracts.languages import LANGUAGES
from madoguchi.contracts.queue import BlockView, CounterStop, TakeParams, TicketView
from tests.fixtures.printing import VirtualPrinter

TOKEN = "Zk3Qp9xL2mVb7RtY4wHc8dNs1fGj6uAe"
URL = f"https://q.example.jp/s/{TOKEN}"


class Centre:
    """`queue.take` answered as the central would (the client boundary)."""

    def take(self, params: TakeParams) -> TicketView:
        now = int(time.time() * 1000)
        return TicketView(
            number="A-12",
            category=params.category,
            counters=[CounterStop(counter="shimin_1", floor=1), CounterStop(counter="hoken", floor=1)],
            people_ahead=4,
            wait_min_minutes=10,
            wait_max_minutes=20,
            issued_at=now,
            status_token=TOKEN,
            status_url=URL,
            expires_at=now + 3_600_000,
        )


class Unreachable:
    """A centre that never answers."""

    def take(self, params: TakeParams) -> TicketView:
        from kiosk_app.rpc_client import RpcTimeout

        raise RpcTimeout("queue.take: no answer")


def _qr_codes(png: Path) -> list[str]:
    paper = Image.open(png).convert("L")
    framed = Image.new("L", (paper.width + 80, paper.height + 80), 255)
    framed.paste(paper, (40, 40))
    return [r.text for r in zxingcpp.read_barcodes(framed) if r.format == zxingcpp.BarcodeFormat.QRCode]


def _desk(tmp_path: Path, printer: VirtualPrinter, centre: object, events: list[Event]) -> TicketDesk:
    journal = QueueJournal(tmp_path / "offline.sqlite")
    journal.set_block(BlockView(block=2, first=2001, last=2999))
    receipt = ReceiptOutput(printer.url)
    return TicketDesk(load_sample_catalog(), journal, centre, receipt, events.append)


def test_online_ticket_prints_number_route_and_a_qr_to_the_status_page(
    tmp_path: Path, virtual_printer: VirtualPrinter
) -> None:
    """GIVEN the centre issues A-12 WHEN a resident takes a number in Vietnamese THEN the paper carries the number,
    both counters with their floor, people ahead, the wait range in Vietnamese and Japanese, and its QR code
    scans to the status URL."""
    events: list[Event] = []
    desk = _desk(tmp_path, virtual_printer, Centre(), events)
    desk.take(qe.TakeTicket("moving", "vi"))
    desk.receipt.close()  # type: ignore[union-attr]
    (event,) = events
    assert isinstance(event, qe.TicketIssued) and event.ticket.printed and not event.ticket.offline
    assert [s.counter for s in event.ticket.stops] == ["shimin_1", "hoken"]
    (png,) = virtual_printer.job_files()
    assert _qr_codes(png) == [URL]
    assert desk.journal is not None and desk.journal.status_url_base() == "https://q.example.jp/s/"


def test_ticket_texts_are_in_the_residents_language_and_japanese() -> None:
    """GIVEN a ticket WHEN laid out in English THEN each line is followed by its Japanese, the wait is a range
    and the floor is named; an offline ticket says so in both languages."""
    ticket = VisitTicket(
        number="A-1001",
        category="Moving and address changes",
        category_ja="引っ越し・住所の届出",
        stops=(VisitStop("Citizens Division", "市民課", 1, "1"), VisitStop("Tax Division", "税務課", -1)),
        issued_at=datetime(2026, 12, 7, 9, 5),
        people_ahead=2,
        wait_min_minutes=10,
        wait_max_minutes=20,
        status_url=URL,
        offline=True,
    )
    texts = [b.text for b in visit_ticket_document(ticket, "en").blocks if isinstance(b, Text)]
    assert texts[:2] == ["Moving and address changes", "引っ越し・住所の届出"]
    assert "A-1001" in texts
    assert tr("visit.offline", "en") in texts and tr("visit.offline", "ja") in texts
    assert "Wait: about 10–20 min" in texts and "待ち時間 約10〜20分" in texts
    assert "2. Tax Division, Basement 1" in texts and "2. 地下1階 税務課" in texts
    assert "1. 1階 1番 市民課" in texts


@pytest.mark.parametrize("language", LANGUAGES)
def test_visit_ticket_prints_in_every_language_on_58mm(
    virtual_printer_for: object, language: str, tmp_path: Path
) -> None:
    """GIVEN an offline ticket in `language` WHEN printed on a 58 mm printer THEN it prints as one cut job."""
    profile = profile_for("generic-58")
    virtual = virtual_printer_for(profile)  # type: ignore[operator]
    catalog = load_sample_catalog()
    category = catalog.queue_category("moving")
    counter = catalog.counter(category.counter)
    ticket = VisitTicket(
        number="A-1001",
        category=category.names.text(language),
        category_ja=category.names.text("ja"),
        stops=(
            VisitStop(counter.names.text(language), counter.names.text("ja"), counter.floor, counter.number),
        ),
        issued_at=datetime(2026, 12, 7, 9, 5),
        people_ahead=3,
        wait_min_minutes=5,
        wait_max_minutes=15,
        status_url=URL,
        offline=True,
    )
    printer = ReceiptPrinter(virtual.url, timeout=2.0)
    try:
        job = encode_job(visit_ticket_document(ticket, language), profile)
        assert printer.print_job(job, "visit").outcome.value == "printed"
    finally:
        printer.close()


def test_offline_ticket_qr_carries_a_fresh_token_whose_hash_is_journaled(
    tmp_path: Path, virtual_printer: VirtualPrinter
) -> None:
    """GIVEN the centre does not answer and a status address from an earlier ticket WHEN a number is taken THEN
    A-2001 from the kiosk's block prints marked offline, its QR scans to that address plus a ≥128-bit token, and
    the journal keeps only the token's SHA-256."""
    events: list[Event] = []
    desk = _desk(tmp_path, virtual_printer, Unreachable(), events)
    assert desk.journal is not None
    desk.journal.learn_status_url(URL, TOKEN)
    desk.take(qe.TakeTicket("moving", "en"))
    desk.receipt.close()  # type: ignore[union-attr]
    (event,) = events
    assert isinstance(event, qe.TicketIssued)
    assert (event.ticket.number, event.ticket.offline, event.ticket.printed) == ("A-2001", True, True)
    (png,) = virtual_printer.job_files()
    (scanned,) = _qr_codes(png)
    assert scanned.startswith("https://q.example.jp/s/")
    token = scanned.removeprefix("https://q.example.jp/s/")
    assert len(token) >= 22 and token != TOKEN
    (journaled,) = desk.journal.unmerged()
    assert journaled.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert TOKEN not in (tmp_path / "offline.sqlite").read_bytes().decode("latin-1")
