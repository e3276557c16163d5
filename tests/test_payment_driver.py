"""Driver rules a user would notice: amounts, one operation at a time, exclusive port, STS, voids, logs."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from pathlib import Path

import pytest

from device_drivers.errors import DeviceUnavailable, PaymentError
from device_drivers.payment.clock import FakeClock
from device_drivers.payment.errors import InvalidAmount, PaymentBusy, TerminalUnavailable, VoidRefused
from device_drivers.payment.messages import Method, ResultCode, TerminalState
from device_drivers.payment.records import JournalState, Operation
from device_drivers.payment.transport import SerialPortSource
from tests.fixtures.serial_pty import StartSim
from tests.payment_helpers import Records, make_kiosk


@pytest.mark.parametrize(
    ("amount", "says"),
    [
        (0, "at least 1 yen"),
        (-300, "at least 1 yen"),
        (300.0, "whole number"),
        (300.5, "whole number"),
        ("300", "whole number"),
        (True, "whole number"),
        (1_000_001, "over this kiosk's limit"),
    ],
)
def test_bad_amounts_are_refused_before_anything_is_sent(
    tmp_path: Path, payment_sim: StartSim, amount: object, says: str
) -> None:
    """GIVEN a zero, negative, non-integer or over-limit amount WHEN a sale is asked THEN a clear
    InvalidAmount, no journal entry, and not one byte reached the terminal."""
    sim = payment_sim("approve")
    kiosk = make_kiosk(tmp_path, sim)
    with pytest.raises(InvalidAmount, match=says) as caught:
        kiosk.terminal.sale("order-a", amount, Method.CREDIT)  # type: ignore[arg-type]
    assert isinstance(caught.value, PaymentError) and caught.value.code == "payment.invalid_amount"
    assert kiosk.journal.records() == []
    assert sim.terminal.received == []


def test_one_operation_at_a_time(tmp_path: Path, payment_sim: StartSim) -> None:
    """GIVEN a sale waiting for a card WHEN a second sale is asked THEN PaymentBusy; the first ends normally."""
    sim = payment_sim("wait-card")
    kiosk = make_kiosk(tmp_path, sim)
    results: list[object] = []
    worker = threading.Thread(target=lambda: results.append(kiosk.terminal.sale("order-b", 300, Method.QR)))
    worker.start()
    while not kiosk.journal.records():
        threading.Event().wait(0.01)
    with pytest.raises(PaymentBusy):
        kiosk.terminal.sale("order-c", 300, Method.QR)
    kiosk.terminal.abort()
    worker.join(timeout=10)
    assert results and results[0].result is ResultCode.CANCELLED  # type: ignore[attr-defined]
    assert [r.order_id for r in kiosk.journal.records()] == ["order-b"]


def test_second_exclusive_open_of_the_port_fails_with_eagain(payment_sim: StartSim) -> None:
    """GIVEN the kiosk holds the terminal's port WHEN another process-like opener tries THEN EAGAIN."""
    sim = payment_sim("approve")
    first = SerialPortSource(sim.path).open()
    try:
        with pytest.raises(TerminalUnavailable, match=r"Resource temporarily unavailable|Errno 11") as caught:
            SerialPortSource(sim.path).open()
        assert isinstance(caught.value, DeviceUnavailable)
    finally:
        first.close()


def test_status_checks_never_create_or_change_a_transaction(tmp_path: Path, payment_sim: StartSim) -> None:
    """GIVEN a ready terminal WHEN the status is checked many times THEN only STS goes out: no journal
    entry, no stored result, no charge."""
    sim = payment_sim("approve")
    kiosk = make_kiosk(tmp_path, sim)
    for _ in range(5):
        status = kiosk.terminal.status()
        assert status.state is TerminalState.READY and status.terminal_id == "SIM-0001"
    assert {kind for kind, _ in sim.terminal.received} == {"STS"}
    assert sim.terminal.store == {} and sim.ledger.entries() == []
    assert kiosk.journal.records() == []


def test_missing_terminal_is_a_clear_unavailable_error(tmp_path: Path) -> None:
    """GIVEN no device at the path WHEN opened THEN TerminalUnavailable naming the path, nothing journaled."""
    with pytest.raises(TerminalUnavailable, match="/dev/does-not-exist"):
        SerialPortSource("/dev/does-not-exist").open()


def test_same_day_void_by_exact_reference_refunds_once(tmp_path: Path, payment_sim: StartSim) -> None:
    """GIVEN a definite approval today WHEN staff void it by its reference THEN one refund; a second
    void and voids of non-approvals are refused before anything is sent."""
    sim = payment_sim("approve")
    kiosk = make_kiosk(tmp_path, sim)
    sale = kiosk.terminal.sale("order-v", 800, Method.CREDIT)
    void = kiosk.terminal.void(sale.ref, staff="staff-01")
    assert void.paid and void.orig_ref == sale.ref and void.orig_txn == sale.txn_id
    assert [(e.kind, e.ref, e.amount) for e in sim.ledger.entries()] == [
        ("charge", sale.ref, 800),
        ("refund", sale.ref, 800),
    ]
    with pytest.raises(VoidRefused, match="already voided"):
        kiosk.terminal.void(sale.ref, staff="staff-01")
    with pytest.raises(VoidRefused, match="not a definite approval"):
        kiosk.terminal.void(void.ref, staff="staff-01")
    again = kiosk.terminal.sale("order-v", 800, Method.CREDIT)  # voided: the order may be paid again
    assert again.paid


def test_void_of_yesterdays_approval_is_refused(tmp_path: Path, payment_sim: StartSim) -> None:
    """GIVEN an approval from yesterday WHEN staff try to void it THEN refused: same-day only."""
    clock = FakeClock(start_wall=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    sim = payment_sim("approve", clock=clock)  # the terminal's clock says yesterday too
    kiosk = make_kiosk(tmp_path, sim, clock=clock)
    sale = kiosk.terminal.sale("order-y", 800, Method.CREDIT)
    clock.advance(86_400)
    with pytest.raises(VoidRefused, match="same-day"):
        kiosk.terminal.void(sale.ref, staff="staff-01")
    assert [e.kind for e in sim.ledger.entries()] == ["charge"]


def test_unmasked_card_number_from_a_faulty_terminal_is_masked_before_journaling(
    tmp_path: Path, payment_sim: StartSim
) -> None:
    """GIVEN a terminal that sends a full card number WHEN the result is journaled THEN only the first 6
    and last 4 digits are kept."""
    sim = payment_sim("leak-pan")
    kiosk = make_kiosk(tmp_path, sim)
    record = kiosk.terminal.sale("order-p", 300, Method.CREDIT)
    assert record.masked_id == "411111******1111"
    assert b"4111111111111111" not in (tmp_path / "journal.sqlite").read_bytes()


@pytest.mark.parametrize("script", ["approve", "leak-pan", "corrupt-res", "garbage"])
def test_logs_carry_no_card_data_raw_frames_or_codes(
    tmp_path: Path, payment_sim: StartSim, script: str
) -> None:
    """GIVEN every logger at DEBUG WHEN sales run (even with a leaking terminal and bad frames) THEN no
    card number (full or masked), auth code, raw frame or frame bytes appear in any log line."""
    handler = Records()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        sim = payment_sim(script)
        kiosk = make_kiosk(tmp_path, sim)
        record = kiosk.terminal.sale("order-l", 300, Method.CREDIT)
        assert record.paid
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    text = "\n".join(handler.lines)
    assert "payment" in text and record.ref in text  # the allow-listed fields are logged
    for secret in (
        "4111111111111111",
        "411111",
        "A1B2C3",
        "\x02",
        "\x1c",
        "\\x1c",
        "\\x02",
        "SAL\x1c",
        "RES\x1c",
    ):
        assert secret not in text, secret
    assert "0003STS" not in text and "02303130" not in text  # no frame bytes, no hex traces


def test_unresolved_payment_blocks_a_new_reference_for_the_order(
    tmp_path: Path, payment_sim: StartSim
) -> None:
    """GIVEN a payment left in SENDING (crash) WHEN the same order is paid before recovery THEN refused;
    after start-up recovery (INQ → NOT_FOUND) the resident can pay."""
    sim = payment_sim("approve")
    kiosk = make_kiosk(tmp_path, sim)
    entry = kiosk.journal.begin("order-r", Operation.SALE, 300, Method.CREDIT)
    kiosk.journal.transition(entry.ref, JournalState.SENDING)
    with pytest.raises(PaymentError, match="staff must resolve"):
        kiosk.terminal.sale("order-r", 300, Method.CREDIT)
    recovered = kiosk.terminal.open()
    assert [(r.ref, r.state) for r in recovered] == [(entry.ref, JournalState.ERROR_NOT_CHARGED)]
    assert kiosk.terminal.sale("order-r", 300, Method.CREDIT).paid
