"""A kiosk killed with SIGKILL at each journal state boundary, then restarted, ends with exactly one
definite outcome, and the terminal's ledger shows at most one charge (reference §3, matrix 12).

The sale runs in a child process that kills itself right after a state is committed; recovery runs
in a new process through the real command `kiosk payment recover`.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from device_drivers.payment.codec import Timers
from device_drivers.payment.journal import Journal
from device_drivers.payment.records import DEFINITE_STATES, JournalState
from tests.fixtures.serial_pty import StartSim

S = JournalState
ROOT = Path(__file__).resolve().parent.parent
KIOSK = Path(sys.executable).parent / "kiosk"
FINAL = {S.APPROVED, S.DECLINED, S.CANCELLED, S.TIMEOUT, S.ERROR_NOT_CHARGED, S.FAILED_NOT_SENT, S.UNKNOWN}

# state killed after -> (final state after recovery, charged)
CASES = {
    S.CREATED: (S.FAILED_NOT_SENT, False),
    S.SENDING: (S.ERROR_NOT_CHARGED, False),
    S.ACCEPTED: (S.APPROVED, True),
    S.IN_PROGRESS: (S.APPROVED, True),
    S.APPROVED: (S.APPROVED, True),
    S.CONFIRMED: (S.APPROVED, True),
}


@pytest.mark.parametrize("killed_after", list(CASES), ids=lambda s: s.value)
def test_sigkill_at_each_journal_state_then_restart_gives_one_outcome(
    tmp_path: Path, payment_sim: StartSim, killed_after: JournalState
) -> None:
    """GIVEN a sale killed with SIGKILL right after `killed_after` is journaled WHEN the kiosk restarts
    and recovers THEN the order has one payment with one definite outcome matching the ledger."""
    sim = payment_sim("approve", timers=Timers(t_ack=0.2))
    journal_path = tmp_path / "payments.sqlite"
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.payment_kill_child",
            sim.path,
            str(journal_path),
            "order-k",
            "300",
            killed_after.value,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    recovery = subprocess.run(
        [
            str(KIOSK),
            "payment",
            "recover",
            "--device",
            f"serial://{sim.path}",
            "--journal",
            str(journal_path),
            "--kiosk-id",
            "jp-131016-k03",
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert recovery.returncode == 0, recovery.stderr
    journal = Journal(journal_path, "jp-131016-k03")
    records = journal.records(order_id="order-k")
    assert len(records) == 1, "a restart must never create a new reference"
    (record,) = records
    assert record.ref == "jp-131016-k03-0000000001"
    states = [state for state, _w, _m, _d in journal.events(record.ref)]
    assert len([s for s in states if s in FINAL]) == 1, states
    expected_state, charged = CASES[killed_after]
    assert record.state in DEFINITE_STATES
    outcome = record.result.value if record.result is not None else record.state.value
    assert outcome == expected_state.value
    charges = sim.ledger.charges()
    assert len(charges) <= 1
    assert record.paid is charged is (len(charges) == 1)
    if killed_after is S.SENDING:
        inquired = [ref for kind, ref in sim.terminal.received if kind == "INQ"]
        assert inquired == [record.ref]  # matrix 12: inquiry by the same ref, no new ref
    recovered = json.loads(recovery.stdout)
    assert [r["ref"] for r in recovered] == (
        [] if killed_after in (S.APPROVED, S.CONFIRMED) else [record.ref]
    )
    journal.close()
