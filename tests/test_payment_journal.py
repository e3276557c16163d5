"""The payment journal: durable settings, append-only history, persisted references, write-ahead order."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from device_drivers.payment.journal import Journal, JournalError
from device_drivers.payment.messages import Method
from device_drivers.payment.records import JournalState, Operation
from tests.fixtures.serial_pty import StartSim
from tests.payment_helpers import KIOSK_ID, make_kiosk

S = JournalState


def test_journal_runs_in_wal_mode_with_synchronous_full(tmp_path: Path) -> None:
    """GIVEN a new journal WHEN an entry is committed THEN WAL mode, synchronous=FULL, and a -wal file."""
    journal = Journal(tmp_path / "j.sqlite", KIOSK_ID)
    journal.begin("o", Operation.SALE, 100, Method.QR)
    assert journal._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert journal._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert (tmp_path / "j.sqlite-wal").exists()
    journal.close()


def test_references_are_kiosk_id_plus_a_counter_that_survives_restarts(tmp_path: Path) -> None:
    """GIVEN two entries, a close and a reopen WHEN a third is made THEN its counter continues, never reused."""
    journal = Journal(tmp_path / "j.sqlite", KIOSK_ID)
    first = journal.begin("o1", Operation.SALE, 100, Method.QR).ref
    second = journal.begin("o2", Operation.SALE, 100, Method.QR).ref
    journal.close()
    reopened = Journal(tmp_path / "j.sqlite", KIOSK_ID)
    third = reopened.begin("o3", Operation.SALE, 100, Method.QR).ref
    assert [first, second, third] == [f"{KIOSK_ID}-{n:010d}" for n in (1, 2, 3)]
    reopened.close()


def test_journal_events_are_append_only(tmp_path: Path) -> None:
    """GIVEN journal events WHEN anyone tries to UPDATE or DELETE them THEN the database refuses."""
    journal = Journal(tmp_path / "j.sqlite", KIOSK_ID)
    journal.begin("o", Operation.SALE, 100, Method.QR)
    journal.close()
    db = sqlite3.connect(tmp_path / "j.sqlite")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE events SET state = 'APPROVED'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM events")
    db.close()


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ([], S.APPROVED),
        ([S.SENDING], S.FAILED_NOT_SENT),
        ([S.SENDING, S.APPROVED], S.DECLINED),
        ([S.FAILED_NOT_SENT], S.SENDING),
        ([S.SENDING, S.DECLINED], S.RECONCILED),
    ],
)
def test_illegal_state_changes_are_refused(
    tmp_path: Path, path: list[JournalState], illegal: JournalState
) -> None:
    """GIVEN an entry WHEN a state change outside §4 is asked (e.g. FAILED_NOT_SENT after SENDING) THEN refused."""
    journal = Journal(tmp_path / "j.sqlite", KIOSK_ID)
    ref = journal.begin("o", Operation.SALE, 100, Method.QR).ref
    for state in path:
        journal.transition(ref, state)
    with pytest.raises(JournalError, match="not an allowed"):
        journal.transition(ref, illegal)
    journal.close()


def test_reconcile_needs_who_and_how_and_only_settles_unknown(tmp_path: Path) -> None:
    """GIVEN an UNKNOWN and an APPROVED payment WHEN staff reconcile THEN who/how are required and only
    the UNKNOWN one can be settled."""
    journal = Journal(tmp_path / "j.sqlite", KIOSK_ID)
    unknown = journal.begin("o1", Operation.SALE, 100, Method.EMONEY).ref
    journal.transition(unknown, S.SENDING)
    journal.transition(unknown, S.UNKNOWN)
    approved = journal.begin("o2", Operation.SALE, 100, Method.EMONEY).ref
    journal.transition(approved, S.SENDING)
    journal.transition(approved, S.APPROVED)
    with pytest.raises(JournalError, match="who reconciles"):
        journal.reconcile(unknown, False, "", "")
    with pytest.raises(JournalError, match="only UNKNOWN"):
        journal.reconcile(approved, False, "staff", "portal")
    record = journal.reconcile(unknown, False, "staff-3", "acquirer portal shows no charge")
    assert record.state is S.RECONCILED and not record.paid and record.reconciled_by == "staff-3"
    journal.close()


def test_every_state_is_on_disk_before_the_driver_acts_on_it(tmp_path: Path, payment_sim: StartSim) -> None:
    """GIVEN a sale WHEN each state is committed THEN another connection already reads it, SENDING is
    on disk before the terminal got any SAL byte and APPROVED before the CFM."""
    sim = payment_sim("approve")
    kiosk = make_kiosk(tmp_path, sim)
    seen: list[tuple[JournalState, str, bool, bool]] = []

    def check(ref: str, state: JournalState) -> None:
        other = sqlite3.connect(tmp_path / "journal.sqlite")
        on_disk = other.execute("SELECT state FROM payments WHERE ref = ?", (ref,)).fetchone()[0]
        other.close()
        kinds = [kind for kind, _ in sim.terminal.received]
        seen.append((state, on_disk, "SAL" in kinds, "CFM" in kinds))

    kiosk.journal.after_commit = check
    kiosk.terminal.sale("order-w", 300, Method.CREDIT)
    assert [(s, d) for s, d, _sal, _cfm in seen] == [
        (s, s.value) for s in (S.CREATED, S.SENDING, S.ACCEPTED, S.IN_PROGRESS, S.APPROVED, S.CONFIRMED)
    ]
    sal_seen = {state: sal for state, _d, sal, _cfm in seen}
    cfm_seen = {state: cfm for state, _d, _sal, cfm in seen}
    assert sal_seen[S.SENDING] is False
    assert cfm_seen[S.APPROVED] is False
