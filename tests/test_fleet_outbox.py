"""The kiosk's statistics outbox and its sender, with a fake clock (no broker)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk_app.agent.outbox import Outbox
from kiosk_app.agent.sender import StatsSender
from kiosk_app.agent.telemetry import OUTBOX_ALERT, Telemetry
from madoguchi.contracts.base import ContractError
from madoguchi.contracts.messages import EventMessage, Severity, StatsBatch


class FakeClock:
    """Seconds that only move when the test says so."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _sender(outbox: Outbox, sent: list[StatsBatch], clock: FakeClock, delay: float = 0.0) -> StatsSender:
    def publish(payload: bytes) -> bool:
        sent.append(StatsBatch.from_bytes(payload))
        return True

    return StatsSender(outbox, publish, clock=clock, start_delay=lambda: delay, min_interval_s=0.0)


def test_statistic_with_personal_data_is_refused_and_takes_no_seq(tmp_path: Path) -> None:
    """GIVEN a telemetry WHEN the app emits a statistic naming a personal field THEN it is refused with
    the field named, nothing is journaled and the next record still gets seq 1."""
    clock = FakeClock()
    outbox = Outbox(tmp_path / "outbox.db", clock=clock)
    telemetry = Telemetry("jp-131016-k01", outbox, lambda p: _sender(outbox, [], clock), clock)
    with pytest.raises(ContractError, match="name"):
        telemetry.emit_statistic("certificate_issued", name="山田太郎", fee_yen=300)
    assert outbox.depth() == 0
    assert telemetry.emit_statistic("certificate_issued", fee_yen=300).seq == 1


def test_seq_is_persisted_with_the_record_and_survives_a_restart(tmp_path: Path) -> None:
    """GIVEN three journaled records WHEN the outbox is reopened (kiosk restart) THEN they are still
    there and numbering continues at 4; the file is in WAL mode with synchronous=FULL."""
    clock = FakeClock()
    first = Outbox(tmp_path / "outbox.db", clock=clock)
    assert [first.append("queue_ticket", {"category": "juminhyo"}).seq for _ in range(3)] == [1, 2, 3]
    first.close()
    again = Outbox(tmp_path / "outbox.db", clock=clock)
    assert again.seqs() == [1, 2, 3]
    assert again.append("queue_ticket", {}).seq == 4
    assert again._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert again._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_sender_waits_for_the_centre_and_the_start_delay_and_keeps_one_batch_in_flight(
    tmp_path: Path,
) -> None:
    """GIVEN 250 records WHEN connected but the host state is offline THEN nothing is sent; WHEN online
    THEN the first batch goes only after the start delay, at most 100 items, one in flight; rows are
    deleted only by down/ack; no ack for 60 s resends the same batch; a reconnect resends at once."""
    clock = FakeClock()
    outbox = Outbox(tmp_path / "outbox.db", clock=clock)
    for n in range(250):
        outbox.append("payment", {"method": "cash", "n": n})
    sent: list[StatsBatch] = []
    sender = _sender(outbox, sent, clock, delay=12.0)
    sender.on_connect()
    clock.advance(30)
    sender.pump()
    assert sent == []  # centre offline (no host state yet)
    sender.on_host_state(True)
    assert len(sent) == 1 and sent[0].batch == (1, 100)
    sender.on_connect()  # reconnect: start delay again
    sender.pump()
    assert len(sent) == 1
    clock.advance(12)
    sender.pump()
    assert [b.batch for b in sent] == [(1, 100), (1, 100)]
    sender.pump()
    assert len(sent) == 2  # one batch in flight
    clock.advance(59)
    sender.pump()
    assert len(sent) == 2
    clock.advance(1)
    sender.pump()
    assert [b.batch for b in sent][-1] == (1, 100) and sender.resends == 1
    assert outbox.depth() == 250  # PUBACKs never delete
    sender.on_ack(100)
    assert outbox.seqs()[0] == 101 and sent[-1].batch == (101, 200)
    sender.on_ack(200)
    sender.on_ack(250)
    assert outbox.depth() == 0 and sent[-1].batch == (201, 250)
    sender.on_host_state(False)
    outbox.append("payment", {"method": "cash"})
    sender.pump()
    assert sent[-1].batch == (201, 250)  # paused while the centre is offline


def test_batches_stay_under_64_kb(tmp_path: Path) -> None:
    """GIVEN 100 records of 1 KB each WHEN a batch is built THEN it holds fewer items and fits 64 KB."""
    outbox = Outbox(tmp_path / "outbox.db", clock=FakeClock())
    for _ in range(100):
        outbox.append("guide_viewed", {"path": "x" * 1000})
    batch = outbox.next_batch()
    assert batch is not None
    assert 50 < len(batch.items) < 100 and len(batch.to_bytes()) <= 64 * 1024


def test_outbox_over_its_cap_sheds_health_then_events_but_never_usage_records(tmp_path: Path) -> None:
    """GIVEN an outbox capped at 40 KB WHEN health snapshots, events and usage records exceed it THEN
    the health ring goes first, then events, usage records are all kept, shed counts are reported and
    the telemetry raises the outbox-full alert (80 %); old health beyond 30 days is shed too."""
    clock = FakeClock()
    outbox = Outbox(tmp_path / "outbox.db", clock=clock, max_bytes=40_000)
    telemetry = Telemetry("jp-131016-k01", outbox, lambda p: _sender(outbox, [], clock), clock)
    health = json.dumps({"ts": 1, "padding": "h" * 400}).encode()
    for _ in range(40):
        outbox.add_health(health, int(clock() * 1000))
    for n in range(20):
        outbox.add_event(
            EventMessage(
                ts=int(clock() * 1000) + n, code="printer_jam", severity=Severity.WARNING, detail="d" * 300
            )
        )
    fill = outbox.fill()
    assert fill.shed_health == 0 and fill.health_rows == 40 and fill.event_rows == 20
    for n in range(200):
        outbox.append(
            "certificate_issued", {"cert_type": "juminhyo", "fee_yen": 200, "pad": "s" * 100, "n": n}
        )
    fill = outbox.fill()
    assert fill.stats_rows == 200 and outbox.seqs() == list(range(1, 201))
    assert fill.shed_health > 0
    assert fill.bytes_used <= 40_000 or fill.health_rows == 0
    if fill.event_rows < 20:
        assert fill.health_rows == 0  # events only shed once the health ring is empty
    for n in range(200):
        outbox.append("certificate_issued", {"pad": "s" * 100, "n": n})
    fill = outbox.fill()
    assert fill.health_rows == 0 and fill.event_rows == 0 and fill.stats_rows == 400
    assert fill.shed_health == 40 and fill.shed_events == 20
    telemetry.tick()
    alert = telemetry.active_alerts()[OUTBOX_ALERT]
    assert alert.severity is Severity.ERROR and "400 usage records" in alert.detail
    outbox.ack(400)
    telemetry.tick()
    assert OUTBOX_ALERT not in telemetry.active_alerts()
    outbox.add_health(health, int(clock() * 1000))
    clock.advance(31 * 86_400)
    outbox.append("payment", {})
    assert outbox.fill().health_rows == 0  # older than 30 days
