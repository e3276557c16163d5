"""The reference's test matrix (§5), each case on a real pty against the shipped simulator.

Timers run on a virtual clock where they matter (T_ACK, T_RESULT), so 180 s and 5-minute cases
take well under a second of real time while every byte still crosses a real pty.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from device_drivers.payment.clock import FakeClock, SystemClock
from device_drivers.payment.codec import Timers
from device_drivers.payment.errors import AlreadyPaid, OrderBlocked
from device_drivers.payment.messages import Method, Phase, ResultCode
from device_drivers.payment.records import JournalState, PaymentProgress
from tests.fixtures.serial_pty import StartSim
from tests.payment_helpers import make_kiosk

S = JournalState


def _received(sim: object, kind: str) -> list[str]:
    return [ref for t, ref in sim.terminal.received if t == kind]  # type: ignore[attr-defined]


def test_normal_sale_with_progress_is_journaled_approved_then_confirmed(
    tmp_path: Path, payment_sim: StartSim
) -> None:
    """Matrix 1. GIVEN an approving terminal WHEN a credit sale runs THEN phases reach the app,
    APPROVED is journaled before CFM, and the ledger has exactly one charge."""
    sim = payment_sim("approve")
    kiosk = make_kiosk(tmp_path, sim)
    kiosk.terminal.open()
    record = kiosk.terminal.sale("order-1", 392, Method.CREDIT, on_event=kiosk.events.append)
    assert record.paid and record.result is ResultCode.APPROVED
    assert kiosk.states(record.ref) == [
        S.CREATED,
        S.SENDING,
        S.ACCEPTED,
        S.IN_PROGRESS,
        S.APPROVED,
        S.CONFIRMED,
    ]
    phases = [e.phase for e in kiosk.events if isinstance(e, PaymentProgress)]
    assert phases == [Phase.WAIT_CARD, Phase.READING, Phase.PIN, Phase.AUTHORIZING]
    assert _received(sim, "CFM") == [record.ref]
    assert [(c.ref, c.amount) for c in sim.ledger.charges()] == [(record.ref, 392)]
    assert record.ref == "jp-131016-k03-0000000001" and record.masked_id == "411111******1111"


def test_corrupted_sal_is_naked_resent_and_charged_once(tmp_path: Path, payment_sim: StartSim) -> None:
    """Matrix 2. GIVEN the first SAL arrives corrupted WHEN the terminal NAKs THEN the kiosk resends
    and there is one charge."""
    sim = payment_sim("corrupt-sal")
    kiosk = make_kiosk(tmp_path, sim)
    record = kiosk.terminal.sale("order-2", 500, Method.QR)
    assert record.paid
    assert ("corrupted", "SAL") in sim.terminal.received
    assert record.tries >= 2 and record.naks == 1
    assert len(sim.ledger.charges()) == 1


def test_lost_ack_of_sal_resends_same_seq_and_ref_once_charged(tmp_path: Path, payment_sim: StartSim) -> None:
    """Matrix 3. GIVEN the terminal never ACKs the first SAL WHEN T_ACK expires THEN the identical
    frame (same SEQ, same ref) is resent, recognised as a duplicate, and charged once."""
    sim = payment_sim("lost-ack")
    kiosk = make_kiosk(tmp_path, sim)
    record = kiosk.terminal.sale("order-3", 700, Method.CREDIT)
    assert record.paid and record.tries >= 2
    assert sim.terminal.link.stats.duplicates >= 1  # byte-identical frame: same SEQ and ref
    assert _received(sim, "SAL") == [record.ref]
    assert [c.ref for c in sim.ledger.charges()] == [record.ref]


def test_sal_naked_three_times_is_inquired_and_not_charged(tmp_path: Path, payment_sim: StartSim) -> None:
    """Matrix 4. GIVEN every SAL is NAKed WHEN three tries fail THEN INQ → NOT_FOUND → ERROR_NOT_CHARGED."""
    sim = payment_sim("nak-storm")
    kiosk = make_kiosk(tmp_path, sim)
    record = kiosk.terminal.sale("order-4", 300, Method.CREDIT)
    assert record.state is S.ERROR_NOT_CHARGED and not record.paid and not record.needs_staff
    assert "INQ: NOT_FOUND" in kiosk.details(record.ref)
    assert _received(sim, "INQ") == [record.ref]
    assert [t for t, _ in sim.terminal.received].count("corrupted") == 3
    assert sim.ledger.charges() == []


def test_corrupted_res_is_naked_resent_and_processed_once(tmp_path: Path, payment_sim: StartSim) -> None:
    """Matrix 5. GIVEN the first RES has a bad checksum WHEN the kiosk NAKs THEN the resent RES is
    journaled exactly once."""
    sim = payment_sim("corrupt-res")
    kiosk = make_kiosk(tmp_path, sim)
    record = kiosk.terminal.sale("order-5", 300, Method.CREDIT)
    assert record.paid
    link = kiosk.terminal.session.link
    assert link is not None and link.stats.naks_sent == 1
    assert kiosk.states(record.ref).count(S.APPROVED) == 1
    assert len(sim.ledger.charges()) == 1


def test_lost_kiosk_ack_of_res_is_reacked_and_journal_unchanged(
    tmp_path: Path, payment_sim: StartSim
) -> None:
    """Matrix 6. GIVEN the terminal misses the kiosk's ACK of RES WHEN it resends RES THEN the kiosk
    ACKs again without processing it: one APPROVED in the journal."""
    sim = payment_sim("lost-kiosk-ack")
    kiosk = make_kiosk(tmp_path, sim)
    record = kiosk.terminal.sale("order-6", 300, Method.CREDIT)
    assert record.paid
    assert ("re-ACKed", record.ref) in sim.terminal.sent
    link = kiosk.terminal.session.link
    assert link is not None and link.stats.duplicates >= 1
    assert kiosk.states(record.ref).count(S.APPROVED) == 1
    assert len(sim.ledger.charges()) == 1


def test_silent_terminal_after_approval_is_inquired_after_t_result(
    tmp_path: Path, payment_sim: StartSim
) -> None:
    """Matrix 7. GIVEN the terminal approves then goes silent WHEN T_RESULT (180 s) expires THEN INQ
    finds APPROVED and it is journaled."""
    clock = FakeClock(idle_step=2.0)
    sim = payment_sim("lost-result")
    kiosk = make_kiosk(tmp_path, sim, clock=clock)
    start = clock.monotonic()
    record = kiosk.terminal.sale("order-7", 1200, Method.CREDIT)
    assert record.paid
    assert clock.monotonic() - start >= 180.0
    assert any(d.startswith("INQ: APPROVED") for d in kiosk.details(record.ref))
    assert record.ref in _received(sim, "INQ")
    assert len(sim.ledger.charges()) == 1


def test_progress_every_60s_for_5_minutes_keeps_the_result_timer_alive(
    tmp_path: Path, payment_sim: StartSim
) -> None:
    """Matrix 8. GIVEN PRG every 60 s for 5 minutes WHEN T_RESULT is 180 s THEN no time-out: no INQ,
    the RES itself is journaled."""
    clock = FakeClock(idle_step=0.05)
    sim = payment_sim("slow", clock=clock, jump_time=True)
    kiosk = make_kiosk(tmp_path, sim, clock=clock)
    start = clock.monotonic()
    record = kiosk.terminal.sale("order-8", 300, Method.CREDIT, on_event=kiosk.events.append)
    assert record.paid
    assert clock.monotonic() - start >= 300.0
    assert _received(sim, "INQ") == []
    assert "RES: APPROVED" in kiosk.details(record.ref)
    assert sum(isinstance(e, PaymentProgress) for e in kiosk.events) >= 9


def test_stall_inside_a_frame_drops_the_partial_and_the_retry_gets_through(
    tmp_path: Path, payment_sim: StartSim
) -> None:
    """Matrix 9. GIVEN the terminal stalls > 200 ms mid-PRG WHEN the kiosk's own inter-byte timer fires
    THEN the partial frame is dropped and the terminal's retry is accepted."""
    sim = payment_sim("stall")
    kiosk = make_kiosk(tmp_path, sim)
    record = kiosk.terminal.sale("order-9", 300, Method.CREDIT)
    assert record.paid
    link = kiosk.terminal.session.link
    assert link is not None and link._parser.dropped_partials >= 1  # type: ignore[attr-defined]
    assert sim.terminal.link.stats.ack_timeouts >= 1
    assert len(sim.ledger.charges()) == 1


def test_garbage_and_stray_stx_etx_between_frames_are_skipped(tmp_path: Path, payment_sim: StartSim) -> None:
    """Matrix 10. GIVEN noise with stray STX/ETX before every frame WHEN a sale runs THEN it is skipped
    silently (no NAK) and the sale completes."""
    sim = payment_sim("garbage")
    kiosk = make_kiosk(tmp_path, sim)
    record = kiosk.terminal.sale("order-10", 300, Method.CREDIT)
    assert record.paid
    link = kiosk.terminal.session.link
    assert link is not None and link.stats.naks_sent == 0
    assert link._parser.skipped_stx > 0  # type: ignore[attr-defined]
    assert len(sim.ledger.charges()) == 1


def test_unplugged_terminal_is_reopened_by_path_then_sts_then_inq(
    tmp_path: Path, payment_sim: StartSim
) -> None:
    """Matrix 11. GIVEN the pty master closes mid-sale (after the charge) WHEN the line comes back on a
    new pty behind the same stable path THEN the kiosk reopens, sends STS, INQ and journals APPROVED."""
    sim = payment_sim("unplug")
    timers = Timers(reopen_interval=0.05, recovery_budget=20.0)
    kiosk = make_kiosk(tmp_path, sim, clock=SystemClock(), timers=timers)
    record = kiosk.terminal.sale("order-11", 300, Method.CREDIT)
    assert record.paid
    assert sim.device.plugs == 2  # unplugged, then re-plugged on a new pty behind the same symlink
    assert any(d.startswith("INQ: APPROVED") for d in kiosk.details(record.ref))
    received = [t for t, _ in sim.terminal.received]
    assert received[-3:] == ["STS", "INQ", "CFM"]
    assert len(sim.ledger.charges()) == 1


def test_terminal_reboot_answers_inquiry_from_its_store(tmp_path: Path, payment_sim: StartSim) -> None:
    """Matrix 13. GIVEN the terminal reboots after charging, forgetting the running operation WHEN
    the kiosk inquires THEN the stored APPROVED comes back; one charge."""
    clock = FakeClock(idle_step=2.0)
    sim = payment_sim("reboot")
    kiosk = make_kiosk(tmp_path, sim, clock=clock)
    record = kiosk.terminal.sale("order-13", 300, Method.CREDIT)
    assert record.paid and sim.terminal.reboots == 1
    assert any(d.startswith("INQ: APPROVED") for d in kiosk.details(record.ref))
    assert len(sim.ledger.charges()) == 1


@pytest.mark.parametrize(("amount", "expected"), [(300, S.CONFIRMED), (900, S.UNKNOWN)])
def test_repeated_sal_with_a_known_ref_returns_the_stored_result(
    tmp_path: Path, payment_sim: StartSim, amount: int, expected: JournalState
) -> None:
    """Matrix 14. GIVEN the terminal already approved ref …01 for 300 yen and the kiosk's journal was
    lost (counter restarts) WHEN a SAL with the same ref is sent THEN the stored RES comes back, no new
    charge; with another amount the outcome is UNKNOWN and the order blocked."""
    sim = payment_sim("approve")
    first = make_kiosk(tmp_path, sim, journal_name="old.sqlite")
    original = first.terminal.sale("order-14a", 300, Method.CREDIT)
    first.terminal.close()
    again = make_kiosk(tmp_path, sim, journal_name="restored.sqlite")
    record = again.terminal.sale("order-14b", amount, Method.CREDIT)
    assert record.ref == original.ref
    assert record.state is expected
    assert [c.ref for c in sim.ledger.charges()] == [original.ref]
    if expected is S.UNKNOWN:
        assert record.res_amount == 300 and record.needs_staff
        with pytest.raises(OrderBlocked):
            again.terminal.sale("order-14b", amount, Method.CREDIT)


def test_abort_while_approving_keeps_the_racing_approval(tmp_path: Path, payment_sim: StartSim) -> None:
    """Matrix 15. GIVEN ABT is sent while the terminal authorizes WHEN it approves anyway THEN the
    kiosk journals APPROVED and sends no void."""
    sim = payment_sim("abort-race")
    kiosk = make_kiosk(tmp_path, sim)

    def on_event(event: object) -> None:
        if isinstance(event, PaymentProgress) and event.phase is Phase.AUTHORIZING:
            kiosk.terminal.abort()

    record = kiosk.terminal.sale("order-15", 300, Method.CREDIT, on_event=on_event)
    assert record.paid
    assert _received(sim, "ABT") == [record.ref]
    assert _received(sim, "VOD") == []
    assert len(sim.ledger.charges()) == 1


def test_abort_while_waiting_for_a_card_cancels_without_charge(tmp_path: Path, payment_sim: StartSim) -> None:
    """GIVEN the terminal waits for a card WHEN the resident cancels on the kiosk (ABT) THEN CANCELLED, no charge."""
    sim = payment_sim("wait-card")
    kiosk = make_kiosk(tmp_path, sim)
    timer = threading.Timer(0.2, kiosk.terminal.abort)
    timer.start()
    record = kiosk.terminal.sale("order-15b", 300, Method.EMONEY)
    timer.join()
    assert record.state is S.CONFIRMED and record.result is ResultCode.CANCELLED
    assert sim.ledger.charges() == []


def test_emoney_processing_unfinished_blocks_order_until_staff_reconcile(
    tmp_path: Path, payment_sim: StartSim
) -> None:
    """Matrix 16. GIVEN e-money 処理未了 WHEN the terminal reports UNKNOWN with the balance before THEN
    the order is blocked ("contact staff", never "failed") until staff reconcile from the card balance."""
    sim = payment_sim("emoney-unknown")
    kiosk = make_kiosk(tmp_path, sim)
    record = kiosk.terminal.sale("order-16", 300, Method.EMONEY)
    assert record.needs_staff and not record.paid and record.state is S.UNKNOWN
    assert record.bal_before == 5000
    with pytest.raises(OrderBlocked):
        kiosk.terminal.sale("order-16", 300, Method.EMONEY)
    charged = sim.terminal.card_balance == record.bal_before - record.amount
    assert charged  # the card shows the deduction: staff reconcile as charged
    settled = kiosk.journal.reconcile(record.ref, charged, "staff-07", "card balance 4700 = 5000 - 300")
    assert settled.state is S.RECONCILED and settled.paid
    with pytest.raises(AlreadyPaid):
        kiosk.terminal.sale("order-16", 300, Method.EMONEY)
    assert len(sim.ledger.charges()) == 1


def test_declined_payment_lets_the_resident_try_again_with_a_new_ref(
    tmp_path: Path, payment_sim: StartSim
) -> None:
    """GIVEN a declined payment WHEN the resident tries again THEN a new ref is used and nothing was charged."""
    sim = payment_sim("decline")
    kiosk = make_kiosk(tmp_path, sim)
    first = kiosk.terminal.sale("order-17", 300, Method.CREDIT)
    assert first.result is ResultCode.DECLINED and not first.paid and first.resp_code == "51"
    second = kiosk.terminal.sale("order-17", 300, Method.CREDIT)
    assert second.ref != first.ref and not second.paid
    assert sim.ledger.charges() == []


def test_local_timeout_while_terminal_still_works_is_not_a_failure(
    tmp_path: Path, payment_sim: StartSim
) -> None:
    """GIVEN T_RESULT shorter than the terminal's work WHEN it expires THEN INQ answers IN_PROGRESS, the
    kiosk waits and re-inquires instead of failing, and journals the final APPROVED once."""
    clock = FakeClock(idle_step=0.05)
    sim = payment_sim("slow", clock=clock, jump_time=True)
    kiosk = make_kiosk(tmp_path, sim, clock=clock, timers=Timers(t_result=30.0, recovery_budget=900.0))
    record = kiosk.terminal.sale("order-t", 300, Method.EMONEY)
    assert record.paid and (record.bal_before, record.bal_after) == (5000, 4700)
    assert len(_received(sim, "INQ")) >= 1
    assert "RES: APPROVED" in kiosk.details(record.ref)  # INQ said IN_PROGRESS; the RES itself decided
    states = kiosk.states(record.ref)
    assert S.UNKNOWN not in states and states.count(S.APPROVED) == 1
    assert len(sim.ledger.charges()) == 1
