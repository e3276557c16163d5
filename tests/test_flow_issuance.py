"""Behaviour of the certificate flow a resident (or staff) would notice: payment, privacy, wiping, failures."""

from __future__ import annotations

import json
import logging

import pytest

from kiosk_app.flows import commands as cmd
from kiosk_app.flows import events as ev
from kiosk_app.flows.issuance_context import Step
from kiosk_app.flows.issuance_states import CARD_ABORTS
from kiosk_app.flows.stats import AbortReason, Outcome, SessionStats
from madoguchi.contracts.messages import PERSONAL_KEYS, StatsItem
from tests.flow_helpers import NAME, PATHS, PIN, TO_RATING, Harness, approved, of_type


def stats_of(h: Harness) -> list[SessionStats]:
    return [c.stats for c in of_type(h.commands, cmd.EmitStatistic)]  # type: ignore[attr-defined]


def test_happy_path_pays_fee_times_copies_prints_and_records_rating() -> None:
    """GIVEN a resident with a valid card WHEN they go through every step and rate 5 THEN they pay 2 x 200 yen,
    the certificate is printed for their session, and one completed statistic with the rating is emitted."""
    h = Harness()
    h.send(*TO_RATING, ev.Rate(5))
    assert h.step is Step.HOME
    (sale,) = of_type(h.commands, cmd.StartPayment)
    assert (sale.amount_yen, sale.method_id) == (400, "credit")  # type: ignore[attr-defined]
    (doc,) = of_type(h.commands, cmd.PrintDocument)
    assert doc == cmd.PrintDocument(
        session_ref="ref-0001", payment_ref=sale.ref, type_id="juminhyo",  # type: ignore[attr-defined]
        choices=(("domicile", "omit"), ("relationship", "omit"), ("scope", "all")), copies=2, language="en",
    )  # fmt: skip
    (stats,) = stats_of(h)
    assert stats.outcome is Outcome.COMPLETED and stats.rating == 5
    assert (stats.type_id, stats.copies, stats.fee_yen, stats.method) == ("juminhyo", 2, 400, "credit")


def test_statistics_fit_the_stats_contract_and_hold_no_personal_data() -> None:
    """GIVEN a completed session WHEN its statistic becomes an outbox row THEN StatsItem accepts it and neither
    the name nor the PIN nor any personal key appears in it."""
    h = Harness()
    h.send(*TO_RATING, ev.Rate(3))
    item = stats_of(h)[0].to_stats_item(seq=7, ts_ms=1_700_000_000_000)
    assert isinstance(item, StatsItem) and item.kind == "certificate_session"
    text = item.to_bytes().decode()
    assert NAME not in text and "山田" not in text and PIN not in text
    assert not set(json.loads(text)) & PERSONAL_KEYS
    assert item.fields["rating"] == 3 and item.fields["fee_yen"] == 400


def test_seconds_per_step_are_measured_on_the_injected_clock() -> None:
    """GIVEN a resident who spends 7 s choosing the language WHEN the session is cancelled THEN the statistic says so."""
    h = Harness()
    h.send(ev.Start())
    h.clock.advance(7)
    h.send(ev.ChooseLanguage("ja"))
    h.clock.advance(3)
    h.send(ev.Cancel())
    (stats,) = stats_of(h)
    assert dict(stats.step_seconds)["language"] == 7.0 and dict(stats.step_seconds)["place_card"] == 3.0
    assert stats.abort_reason is AbortReason.CANCELLED and stats.outcome is Outcome.ABORTED


def test_pin_never_appears_in_logs_reprs_or_views(caplog: pytest.LogCaptureFixture) -> None:
    """GIVEN debug logging WHEN the PIN is typed and verified THEN only the verify command carries it (hidden
    from repr) and the session forgets it at once."""
    caplog.set_level(logging.DEBUG)
    h = Harness().goto(Step.PIN_ENTRY)
    for digit in PIN:
        h.send(ev.Digit(digit))
        assert h.flow.view().pin_length == PIN.index(digit) + 1
    out = h.send(ev.Confirm())
    (verify,) = of_type(out, cmd.VerifyPinAndAuthenticate)
    assert verify.pin == PIN  # type: ignore[attr-defined]
    assert PIN not in repr(verify) and PIN not in repr(ev.Digit("4"))
    assert h.flow.session is not None and h.flow.session.pin == [] and PIN not in repr(h.flow.session)
    assert PIN not in repr(h.flow.view())
    assert PIN not in caplog.text


def test_tries_left_shown_before_entry_and_last_try_warned() -> None:
    """GIVEN a card with 2 tries left WHEN a wrong PIN is entered THEN 1 try is left, with the last-try warning."""
    h = Harness().goto(Step.READING_CARD)
    h.send(ev.PinTriesRead(2))
    view = h.flow.view()
    assert view.tries_left == 2 and not view.last_try
    h.send(*(ev.Digit(d) for d in "1111"), ev.Confirm(), ev.AuthFailed(1))
    view = h.flow.view()
    assert view.step is Step.PIN_ENTRY and view.tries_left == 1 and view.last_try and view.pin_error
    assert view.pin_length == 0


def test_third_wrong_pin_locks_and_ends_at_take_card() -> None:
    """GIVEN the last try WHEN the PIN is wrong again THEN the locked notice shows, then the card must be taken."""
    h = Harness().goto(Step.READING_CARD)
    h.send(ev.PinTriesRead(1), *(ev.Digit(d) for d in "0000"), ev.Confirm(), ev.AuthFailed(0))
    assert h.step is Step.PIN_LOCKED and h.flow.view().tries_left == 0
    h.send(ev.Confirm())
    assert h.step is Step.TAKE_CARD
    assert stats_of(h)[0].abort_reason is AbortReason.PIN_LOCKED


def test_name_is_shown_partly_masked() -> None:
    """GIVEN authentication succeeded WHEN the name confirmation shows THEN only the first character of each part."""
    h = Harness().goto(Step.NAME_CONFIRM)
    assert h.flow.view().masked_name == "山＊ 太＊"
    assert NAME not in repr(h.flow.view())


def test_refused_types_are_listed_with_where_to_go_but_not_selectable() -> None:
    """GIVEN 戸籍 is refused (registration required) WHEN it is tapped THEN nothing happens; the view explains why."""
    h = Harness().goto(Step.CHOOSE_TYPE)
    view = h.flow.view()
    assert [o.type_id for o in view.offers] == ["juminhyo", "inkan"]
    (refused,) = view.refused
    assert refused.type_id == "koseki_zenbu" and "city.midori.example" in refused.where_to_go
    h.send(ev.ChooseType("koseki_zenbu"))
    assert h.step is Step.CHOOSE_TYPE and h.flow.view().type_id is None


@pytest.mark.parametrize("step", sorted(CARD_ABORTS - {Step.MORE_TIME}, key=lambda s: s.value))
def test_card_removal_before_payment_aborts_and_wipes(step: Step) -> None:
    """GIVEN any step before payment with the card read WHEN the card is removed THEN the session's name and PIN
    are wiped, the runner is told to wipe, and the statistic says card_removed."""
    h = Harness().goto(step)
    session = h.flow.session
    assert session is not None
    session.pin.extend("12")  # as if digits were being typed
    out = h.send(ev.CardRemoved())
    assert h.step is Step.HOME and h.flow.session is None
    assert session.wiped and session.name == "" and session.pin == [] and session.offers == ()
    assert of_type(out, cmd.WipeSession) == [cmd.WipeSession(session.ref)]
    assert stats_of(h)[0].abort_reason is AbortReason.CARD_REMOVED
    assert not of_type(h.commands, cmd.StartPayment) or step in (Step.PAYMENT_DECLINED,)


def test_idle_asks_for_more_time_before_wiping() -> None:
    """GIVEN a resident idle on the type list WHEN the idle timeout passes THEN "more time?" shows and nothing is
    wiped; more time returns to the same list; idling through the prompt wipes and asks for the card."""
    h = Harness().goto(Step.CHOOSE_TYPE)
    session = h.flow.session
    assert session is not None
    h.send("timeout")
    assert h.step is Step.MORE_TIME and h.flow.view().interrupted is Step.CHOOSE_TYPE and not session.wiped
    assert h.flow.view().time_left == 30.0
    h.send(ev.MoreTime())
    assert h.step is Step.CHOOSE_TYPE and h.flow.view().offers and h.flow.machine.time_left() == 60.0
    h.send("timeout", "timeout")
    assert h.step is Step.TAKE_CARD and session.wiped
    assert stats_of(h)[0].abort_reason is AbortReason.IDLE_TIMEOUT


def test_touches_keep_the_session_alive() -> None:
    """GIVEN the PIN screen WHEN a key is pressed every 50 s THEN the 60 s idle timeout never fires."""
    h = Harness().goto(Step.PIN_ENTRY)
    for _ in range(4):
        h.clock.advance(50)
        h.send(ev.Tick(), ev.Digit("1"), ev.Erase())
    assert h.step is Step.PIN_ENTRY


def test_printer_out_of_paper_before_payment_takes_no_money() -> None:
    """GIVEN the A4 printer is out of paper WHEN the resident picks a method THEN no sale starts, staff are called."""
    h = Harness().goto(Step.CHECKING_PRINTER)
    h.send(ev.PrinterNotReady("out_of_paper"))
    assert h.step is Step.PRINTER_UNAVAILABLE and h.flow.view().problem == "out_of_paper"
    h.send(ev.Confirm())
    assert not of_type(h.commands, cmd.StartPayment)
    assert of_type(h.commands, cmd.CallStaffCommand)
    assert stats_of(h)[0].abort_reason is AbortReason.PRINTER_UNAVAILABLE


def test_print_failure_after_payment_reprint_once_then_void_with_slip_and_staff() -> None:
    """GIVEN a paid certificate WHEN printing fails twice THEN one free reprint (with an incident) is offered, then
    only void: a 未交付 slip, an incident, staff called, and a failed session statistic; no second charge."""
    h = Harness().goto(Step.PRINT_FAILED)
    assert h.flow.view().can_reprint
    h.send(ev.Reprint())
    first, again = of_type(h.commands, cmd.PrintDocument)
    assert again.reprint and not first.reprint and again.payment_ref == first.payment_ref  # type: ignore[attr-defined]
    h.send(ev.PrintFailed("paper_jam"))
    assert not h.flow.view().can_reprint
    h.send(ev.VoidDocument(), ev.Confirm())
    assert len(of_type(h.commands, cmd.StartPayment)) == 1
    assert cmd.PrintSlip("undelivered", "ref-0001") in h.commands
    assert [c.code for c in of_type(h.commands, cmd.ReportIncident)] == [
        "reprint_after_error",
        "print_failed",
    ]  # type: ignore[attr-defined]
    assert cmd.ConfirmDocument("ref-0001", "void") in h.commands
    stats = stats_of(h)[0]
    assert stats.outcome is Outcome.FAILED and stats.reprints == 1 and h.step is Step.TAKE_CARD


def test_unknown_payment_calls_staff_and_never_retries() -> None:
    """GIVEN the terminal's result is UNKNOWN WHEN time passes THEN staff are called and no new sale is started."""
    h = Harness().goto(Step.PAYING)
    h.send(ev.PaymentUnknown())
    assert cmd.CallStaffCommand("payment_unknown", "payment_unknown") in h.commands
    h.send("timeout")
    assert len(of_type(h.commands, cmd.StartPayment)) == 1
    assert (
        stats_of(h)[0].abort_reason is AbortReason.PAYMENT_UNKNOWN
        and stats_of(h)[0].outcome is Outcome.FAILED
    )


def test_card_pulled_during_payment_aborts_and_a_racing_approval_prints_no_certificate() -> None:
    """GIVEN payment in progress WHEN the card is pulled and the terminal approves anyway THEN no certificate is
    printed for an empty kiosk: a 未交付 slip, an incident and a staff call instead, and the session ends."""
    h = Harness().goto(Step.PAYING)
    h.send(ev.CardRemoved())
    assert of_type(h.commands, cmd.AbortPayment)
    h.send(approved)
    assert h.step is Step.VOIDED and not of_type(h.commands, cmd.PrintDocument)
    assert of_type(h.commands, cmd.PrintSlip) and of_type(h.commands, cmd.ReportIncident)
    h.send(ev.Confirm())
    assert h.step is Step.HOME and h.flow.session is None


def test_card_left_behind_alarm_until_removed() -> None:
    """GIVEN the certificate is out WHEN the card stays 10 s THEN an alarm and staff event start and last until the
    card is removed, however long that takes."""
    h = Harness().goto(Step.TAKE_CARD)
    h.send("timeout")
    assert h.step is Step.CARD_LEFT_BEHIND and of_type(h.commands, cmd.StartAlarm)
    h.clock.advance(3600)
    h.send(ev.Tick(), ev.Cancel(), ev.Confirm())
    assert h.step is Step.CARD_LEFT_BEHIND and not of_type(h.commands, cmd.StopAlarm)
    h.send(ev.CardRemoved())
    assert h.step is Step.RATING and of_type(h.commands, cmd.StopAlarm)


def test_central_offline_blocks_issuance_until_back() -> None:
    """GIVEN the central is unreachable WHEN a resident taps issuance THEN nothing starts; once back, it does."""
    h = Harness()
    h.send(ev.ServiceStatus(central_online=False), ev.Start())
    assert h.step is Step.HOME and not h.flow.view().central_online
    h.send(ev.ServiceStatus(central_online=True), ev.Start())
    assert h.step is Step.LANGUAGE


@pytest.mark.parametrize("step", list(PATHS), ids=[s.value for s in PATHS])
def test_call_staff_works_on_every_step(step: Step) -> None:
    """GIVEN any step WHEN 職員を呼ぶ is tapped THEN a staff call naming the step is sent and the step stays."""
    h = Harness().goto(step)
    out = h.send(ev.CallStaff())
    assert out[-1] == cmd.CallStaffCommand(step.value, "resident") and h.step is step


def test_a_new_session_starts_clean() -> None:
    """GIVEN a finished session WHEN the next resident starts THEN nothing of the previous one is visible."""
    h = Harness()
    h.send(*TO_RATING, ev.Rate(4), *PATHS[Step.CHOOSE_TYPE])
    view = h.flow.view()
    assert view.type_id is None and view.copies == 1 and view.tries_left == 3
    assert h.flow.session is not None and h.flow.session.ref == "ref-0003"
