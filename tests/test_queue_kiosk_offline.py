"""Offline 整理券 on the kiosk: numbers from its own block while the centre cannot be reached, journaled before
printing, never reused (not even after a kill between journal and printer), and handed to the centre with
`queue.merge` until each has a definite outcome."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt

from device_drivers.printer.document import Document, Text
from kiosk_app.flows import queue_events as qe
from kiosk_app.flows.core import Event
from kiosk_app.queue_client import QueueClient, QueueRefused
from kiosk_app.rpc_client import RpcClient, RpcTimeout
from kiosk_app.runner.queue_journal import QueueJournal, business_day
from kiosk_app.runner.queue_lamps import QueueLamps
from kiosk_app.runner.queue_sync import QueueSync
from kiosk_app.runner.tickets import TicketDesk
from madoguchi.contracts.catalog import load_sample_catalog
from madoguchi.contracts.queue import (
    BlockView,
    CongestionView,
    MergeItem,
    MergeResult,
    MergeView,
    OfflineTicketIn,
    QueueRefusal,
)
from madoguchi.contracts.topics import Down, down

DEVICE = "jp-131016-k03"
BLOCK = BlockView(block=3, first=3001, last=3999)


class Paper:
    def __init__(self) -> None:
        self.printed: list[Document] = []

    def print_document(self, document: Document) -> None:
        self.printed.append(document)


def _broker_down_client() -> QueueClient:
    """The kiosk's real RPC client on an MQTT session that is not connected (broker down)."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=DEVICE, protocol=mqtt.MQTTv5)
    return QueueClient(RpcClient(client, DEVICE, retry_s=0.1), timeout_s=0.3)


def _journal(tmp_path: Path, **kwargs: object) -> QueueJournal:
    journal = QueueJournal(tmp_path / "offline.sqlite", **kwargs)
    journal.set_block(BLOCK)
    return journal


def _taken(events: list[Event]) -> list[str]:
    return [e.ticket.number for e in events if isinstance(e, qe.TicketIssued)]


def test_broker_unreachable_issues_numbers_from_the_kiosks_block(tmp_path: Path) -> None:
    """GIVEN the broker is down WHEN residents take numbers THEN A-3001, A-3002 and B-3001 come from block 3, each
    printed marked offline and journaled for the centre."""
    events: list[Event] = []
    paper = Paper()
    desk = TicketDesk(load_sample_catalog(), _journal(tmp_path), _broker_down_client(), paper, events.append)
    for category in ("moving", "moving", "certificates"):
        desk.take(qe.TakeTicket(category, "en"))
    assert _taken(events) == ["A-3001", "A-3002", "B-3001"]
    assert all(isinstance(e, qe.TicketIssued) and e.ticket.offline and e.ticket.printed for e in events)
    assert all(
        "Issued offline (the kiosk could not reach the system)"
        in [b.text for b in d.blocks if isinstance(b, Text)]
        for d in paper.printed
    )
    assert desk.journal is not None
    assert [t.number for t in desk.journal.unmerged()] == ["A-3001", "A-3002", "B-3001"]


def test_without_a_block_the_resident_is_sent_to_the_counter(tmp_path: Path) -> None:
    """GIVEN a kiosk that never got its block WHEN the centre is unreachable THEN no number is invented."""
    events: list[Event] = []
    journal = QueueJournal(tmp_path / "offline.sqlite")
    TicketDesk(load_sample_catalog(), journal, _broker_down_client(), Paper(), events.append).take(
        qe.TakeTicket("moving", "ja")
    )
    assert events == [qe.TicketUnavailable("no_block")]


def test_a_kill_between_journal_and_printer_never_reuses_the_number(tmp_path: Path) -> None:
    """GIVEN a kiosk SIGKILLed after journaling A-3001 and before printing it WHEN it restarts THEN A-3001 is still
    in the journal (to merge) and the next resident gets A-3002."""
    path = tmp_path / "offline.sqlite"
    QueueJournal(path).set_block(BLOCK)
    child = subprocess.run(
        [sys.executable, "-m", "tests.queue_kill_child", str(path)], check=False, timeout=60
    )
    assert child.returncode == -9
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT number, printed FROM tickets").fetchall() == [("A-3001", 0)]
    events: list[Event] = []
    desk = TicketDesk(
        load_sample_catalog(), QueueJournal(path), _broker_down_client(), Paper(), events.append
    )
    desk.take(qe.TakeTicket("moving", "ja"))
    assert _taken(events) == ["A-3002"]
    assert desk.journal is not None and [t.number for t in desk.journal.unmerged()] == ["A-3001", "A-3002"]


def test_numbering_restarts_at_the_branchs_opening_time(tmp_path: Path) -> None:
    """GIVEN the branch opens at 08:30 JST WHEN numbers are taken at 08:29 and 08:30 THEN 08:29 continues the
    previous business day and 08:30 starts again at the block's first number."""
    now = [datetime(2026, 12, 7, 23, 0, tzinfo=UTC).timestamp()]  # 08:00 JST on 8 December
    journal = _journal(tmp_path, clock=lambda: now[0])
    assert journal.issue("moving", "A").number == "A-3001"
    now[0] += 29 * 60
    assert journal.issue("moving", "A").number == "A-3002"  # 08:29
    now[0] += 60
    assert journal.issue("moving", "A").number == "A-3001"  # 08:30: a new business day
    assert business_day(int(now[0] * 1000) - 60_000) == "2026-12-07"
    assert business_day(int(now[0] * 1000)) == "2026-12-08"


class MergingCentre:
    """`queue.block` and `queue.merge` as the central answers them; `script` gives one answer per call."""

    def __init__(self, script: list[object]) -> None:
        self.script = script
        self.sent: list[list[str]] = []

    def block(self) -> BlockView:
        return BLOCK

    def merge(self, tickets: list[OfflineTicketIn]) -> MergeView:
        self.sent.append([t.number for t in tickets])
        answer = self.script.pop(0)
        if isinstance(answer, Exception):
            raise answer
        assert callable(answer)
        return MergeView(results=answer(tickets))


def _outcomes(*outcomes: MergeResult | None) -> object:
    def answer(tickets: list[OfflineTicketIn]) -> list[MergeItem]:
        return [
            MergeItem(
                number=t.number, outcome=o, reason="outside the block" if o is MergeResult.REJECTED else ""
            )
            for t, o in zip(tickets, outcomes, strict=False)
            if o is not None
        ]

    return answer


def test_merge_is_resubmitted_until_each_ticket_has_a_definite_outcome(tmp_path: Path) -> None:
    """GIVEN three offline tickets WHEN the centre is unreachable, then answers for only some, then for the rest
    THEN each is resubmitted until merged/duplicate/expired, dropped from the journal after it, and a rejected one
    is kept for staff but not sent again."""
    journal = QueueJournal(tmp_path / "offline.sqlite")
    centre = MergingCentre(
        [
            RpcTimeout("no answer"),
            _outcomes(MergeResult.MERGED, None, MergeResult.REJECTED),
            _outcomes(MergeResult.DUPLICATE),
        ]
    )
    sync = QueueSync(journal, centre)
    assert sync.fetch_block() and journal.block() == BLOCK
    for _ in range(3):
        journal.issue("moving", "A")
    assert sync.sync_once() is False  # unreachable: everything waits
    assert sync.sync_once() is False  # A-3002 had no answer: it stays
    assert [t.number for t in journal.unmerged()] == ["A-3002"]
    assert journal.rejected() == [("A-3003", "outside the block")]
    assert sync.sync_once() is True  # duplicate: the centre already had it
    assert centre.sent == [["A-3001", "A-3002", "A-3003"]] * 2 + [["A-3002"]]
    assert journal.unmerged() == [] and sync.sync_once() is True and len(centre.sent) == 3


def test_a_refused_take_is_not_issued_offline(tmp_path: Path) -> None:
    """GIVEN the centre refuses (outside hours) WHEN a resident takes a number THEN the refusal reaches the flow
    and no offline number is used."""

    class Refusing:
        def take(self, params: object) -> None:
            raise QueueRefused(QueueRefusal(kind="outside_hours", message="受付時間外です"))

    events: list[Event] = []
    desk = TicketDesk(load_sample_catalog(), _journal(tmp_path), Refusing(), Paper(), events.append)
    desk.take(qe.TakeTicket("moving", "ja"))
    assert events == [qe.TicketRefused("outside_hours", "受付時間外です")]
    assert desk.journal is not None and desk.journal.unmerged() == []


def test_lamps_keep_the_newest_view_only() -> None:
    """GIVEN lamps on down/queue WHEN an older view arrives late THEN the newer one stays; other topics pass."""
    lamps = QueueLamps(DEVICE)
    seen: list[CongestionView | None] = []
    lamps.add_listener(seen.append)
    topic = down(DEVICE, Down.QUEUE)
    new = CongestionView(branch="honcho", at=2000, categories=[])
    old = CongestionView(branch="honcho", at=1000, categories=[])
    assert lamps.handle(topic, new.to_bytes()) and lamps.handle(topic, old.to_bytes())
    assert lamps.view == new and seen == [None, new]
    assert not lamps.handle(down(DEVICE, Down.CMD), b"{}")


class RecordingAlerts:
    """The fleet agent's alerts as the sync uses them: what was raised and cleared, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def raise_alert(self, alert_id: str, code: str, severity: object, detail: str = "") -> None:
        self.calls.append(("raise", alert_id, code, str(severity), detail))

    def clear_alert(self, alert_id: str) -> None:
        self.calls.append(("clear", alert_id))


def test_tickets_the_central_rejects_raise_a_fleet_alert_for_the_day(tmp_path: Path) -> None:
    """GIVEN two offline tickets issued at 10:00 WHEN the central merges one and rejects the other THEN the kiosk
    raises its retained warning naming the rejected number and reason (and nothing personal); the next business
    day it is cleared."""
    now = [datetime(2026, 12, 7, 1, 0, tzinfo=UTC).timestamp()]  # 10:00 JST
    journal = _journal(tmp_path, clock=lambda: now[0])
    journal.issue("moving", "A")
    journal.issue("moving", "A")
    alerts = RecordingAlerts()
    sync = QueueSync(
        journal, MergingCentre([_outcomes(MergeResult.MERGED, MergeResult.REJECTED)]), alerts=alerts
    )

    assert sync.sync_once() is True

    assert alerts.calls == [
        (
            "raise",
            "queue-offline-rejected",
            "queue_offline_rejected",
            "warning",
            "1 offline ticket(s) refused by the central: A-3002 (outside the block); "
            "the branch's counter page lists them, serve those residents by hand",
        )
    ]
    now[0] += 86_400
    sync.sync_once()
    assert alerts.calls[-1] == ("clear", "queue-offline-rejected")
    assert journal.rejected() == [("A-3002", "outside the block")]  # still kept for staff
