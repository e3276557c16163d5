"""The kiosk's queue parts against the central's queue RPC on a real Mosquitto (tests/queue_link_env.py):
an online ticket, the block, an offline ticket merged when the link is back, and a resubmission that changes
nothing."""

from __future__ import annotations

from pathlib import Path

from central_broker.queue_link import queue_config
from device_drivers.printer.document import Document
from kiosk_app.flows import queue_events as qe
from kiosk_app.flows.core import Event
from kiosk_app.queue_client import QueueClient
from kiosk_app.runner.queue_journal import QueueJournal
from kiosk_app.runner.queue_lamps import QueueLamps
from kiosk_app.runner.queue_parts import follow_opening_time
from kiosk_app.runner.queue_sync import QueueSync
from kiosk_app.runner.tickets import TicketDesk
from madoguchi.config.queue import QueueSection
from madoguchi.contracts.catalog import load_sample_catalog
from madoguchi.contracts.queue import BlockView, MergeResult
from tests.fixtures.queue import T0, at_jst
from tests.queue_link_env import BRANCH, PUBLIC_URL, QueueLinkEnv, queue_link

__all__ = ["queue_link"]


class Paper:
    def __init__(self) -> None:
        self.printed: list[Document] = []

    def print_document(self, document: Document) -> None:
        self.printed.append(document)


def test_online_then_offline_ticket_is_merged_once(tmp_path: Path, queue_link: QueueLinkEnv) -> None:
    """GIVEN a kiosk on the broker WHEN it takes a number online, loses the link, issues one from its block and
    the link returns THEN the online number is the centre's, the offline one is merged into the centre's line,
    its journal entry is dropped, and sending it again is answered `duplicate`."""
    link = queue_link.kiosk(BRANCH)
    client = QueueClient(link.rpc, timeout_s=10.0)
    journal = QueueJournal(tmp_path / "offline.sqlite", clock=lambda: T0 + 120)
    sync = QueueSync(journal, client)
    events: list[Event] = []
    online = [True]
    paper = Paper()
    desk = TicketDesk(
        load_sample_catalog(), journal, client, paper, events.append, sync=sync, link_up=lambda: online[0]
    )

    desk.take(qe.TakeTicket("moving", "en"))
    first = events[-1]
    assert (
        isinstance(first, qe.TicketIssued)
        and not first.ticket.offline
        and first.ticket.number.startswith("A-")
    )
    assert journal.status_url_base().startswith(PUBLIC_URL)
    assert sync.fetch_block()
    block = journal.block()
    assert block is not None

    online[0] = False
    desk.take(qe.TakeTicket("moving", "en"))
    offline = events[-1]
    assert isinstance(offline, qe.TicketIssued) and offline.ticket.offline
    assert offline.ticket.number == f"A-{block.block * 1000 + 1}"
    sent = journal.unmerged()

    online[0] = True
    assert sync.sync_once() is True and journal.unmerged() == []
    visit = queue_link.host.queue.visit_by_number(BRANCH, offline.ticket.number)
    assert visit is not None
    again = client.merge(sent)
    assert [r.outcome for r in again.results] == [MergeResult.DUPLICATE]
    assert len(paper.printed) == 2


def test_a_kiosk_numbers_offline_by_the_centrals_opening_time(
    tmp_path: Path, queue_link: QueueLinkEnv
) -> None:
    """GIVEN a central whose `[queue] opening_time` is 08:00 and a kiosk whose kiosk.toml still says 08:30, at
    08:15 JST WHEN the kiosk has not heard from the central THEN its offline business day is still yesterday;
    WHEN the central's lamps arrive through Mosquitto THEN the kiosk adopts 08:00: an offline ticket issued now
    belongs to today (its numbering restarts), and the kiosk keeps the central's value after a restart."""
    queue_link.host.queue.config = queue_config(QueueSection(public_url=PUBLIC_URL, opening_time="08:00"))
    at_0815 = at_jst(7, 8, 15)
    journal = QueueJournal(tmp_path / "offline.sqlite", opening_time="08:30", clock=lambda: at_0815)
    journal.set_block(BlockView(block=1, first=1001, last=1999))
    before = journal.today()
    link = queue_link.kiosk(BRANCH)
    lamps = QueueLamps(link.device_id)  # the kiosk's down/queue handler, fed what its subscription received
    lamps.add_listener(lambda view: follow_opening_time(journal, view))

    view = link.next_view(lambda v: v.opening_time is not None)
    lamps.handle(lamps.topic, view.to_bytes())
    ticket = journal.issue("moving", "A")

    assert before == "2026-12-06" and view.opening_time == "08:00"
    assert journal.opening_time == "08:00" and ticket.day == "2026-12-07" and ticket.number == "A-1001"
    journal.close()
    restarted = QueueJournal(tmp_path / "offline.sqlite", opening_time="08:30", clock=lambda: at_0815)
    assert restarted.opening_time == "08:00" and restarted.today() == "2026-12-07"
    restarted.close()
