"""Every transition and timeout of the certificate flow, one case each, driven by real events on a fake clock."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from kiosk_app.flows import commands as cmd
from kiosk_app.flows import events as ev
from kiosk_app.flows.core import Command
from kiosk_app.flows.issuance_context import Step
from kiosk_app.flows.issuance_states import CARD_ABORTS, IDLE_STEPS, NOTICES
from tests.flow_helpers import PIN, EventSource, Harness, approved, of_type

S = Step
CARD = ev.CardInserted()
REMOVED = ev.CardRemoved()
T = "timeout"


@dataclass(frozen=True)
class Case:
    """Reach `start` (after `setup` events at home), send `events`, expect `end` and these command types."""

    name: str
    start: Step
    events: tuple[EventSource | str, ...]
    end: Step
    commands: tuple[type[Command], ...] = ()
    setup: tuple[EventSource, ...] = ()


def c(name: str, start: Step, events: list[EventSource | str], end: Step, *commands: type[Command],
      setup: tuple[EventSource, ...] = ()) -> Case:  # fmt: skip
    return Case(name, start, tuple(events), end, commands, setup)


WIPE = (cmd.EmitStatistic, cmd.WipeSession)
PINS = [ev.Digit(d) for d in PIN]

CASES: list[Case] = [
    c("start", S.HOME, [ev.Start()], S.LANGUAGE),
    c(
        "start_refused_while_central_offline",
        S.HOME,
        [ev.ServiceStatus(central_online=False), ev.Start()],
        S.HOME,
    ),
    c("card_inserted_at_home_is_remembered", S.HOME, [CARD], S.HOME),
    c("card_removed_at_home", S.HOME, [CARD, REMOVED], S.HOME),
    c(
        "language_with_card_in_reads_it",
        S.LANGUAGE,
        [ev.ChooseLanguage("ja")],
        S.READING_CARD,
        cmd.ReadCardTries,
        setup=(CARD,),
    ),
    c("language_without_card_asks_for_it", S.LANGUAGE, [ev.ChooseLanguage("vi")], S.PLACE_CARD),
    c("unknown_language_ignored", S.LANGUAGE, [ev.ChooseLanguage("xx")], S.LANGUAGE),
    c("language_back_home", S.LANGUAGE, [ev.Back()], S.HOME, *WIPE),
    c("language_back_with_card_in", S.LANGUAGE, [ev.Back()], S.TAKE_CARD, *WIPE, cmd.PlayCue, setup=(CARD,)),
    c("card_placed", S.PLACE_CARD, [CARD], S.READING_CARD, cmd.ReadCardTries),
    c("place_card_back", S.PLACE_CARD, [ev.Back()], S.LANGUAGE),
    c("tries_zero_locked", S.READING_CARD, [ev.PinTriesRead(0)], S.PIN_LOCKED),
    c("tries_read", S.READING_CARD, [ev.PinTriesRead(2)], S.PIN_ENTRY),
    c("card_unreadable", S.READING_CARD, [ev.CardUnreadable("not_my_number_card")], S.CARD_PROBLEM),
    c("card_read_timeout", S.READING_CARD, [T], S.CARD_PROBLEM),
    c("pin_digit", S.PIN_ENTRY, [ev.Digit("1")], S.PIN_ENTRY),
    c("pin_erase", S.PIN_ENTRY, [ev.Digit("1"), ev.Erase()], S.PIN_ENTRY),
    c("pin_confirm_incomplete_ignored", S.PIN_ENTRY, [ev.Digit("1"), ev.Confirm()], S.PIN_ENTRY),
    c("pin_confirm", S.PIN_ENTRY, [*PINS, ev.Confirm()], S.VERIFYING, cmd.VerifyPinAndAuthenticate),
    c("pin_forgotten", S.PIN_ENTRY, [ev.ForgotPin()], S.PIN_FORGOTTEN),
    c("pin_back", S.PIN_ENTRY, [ev.Back()], S.LANGUAGE),
    c("pin_forgotten_back", S.PIN_FORGOTTEN, [ev.Back()], S.PIN_ENTRY),
    c("auth_ok", S.VERIFYING, [ev.AuthOk("山田 太郎")], S.NAME_CONFIRM),
    c("auth_failed_last", S.VERIFYING, [ev.AuthFailed(0)], S.PIN_LOCKED),
    c("auth_failed", S.VERIFYING, [ev.AuthFailed(2)], S.PIN_ENTRY),
    c(
        "auth_refused",
        S.VERIFYING,
        [ev.AuthRefused(ev.Refusal(kind="certificate_expired", reason="x"))],
        S.REFUSED,
    ),
    c("auth_central_unreachable", S.VERIFYING, [ev.CentralUnreachable()], S.ISSUANCE_UNAVAILABLE),
    c("auth_timeout", S.VERIFYING, [T], S.ISSUANCE_UNAVAILABLE),
    c("name_confirmed", S.NAME_CONFIRM, [ev.Confirm()], S.FETCHING_OPTIONS, cmd.RequestOptions),
    c("name_back", S.NAME_CONFIRM, [ev.Back()], S.LANGUAGE),
    c(
        "options_received",
        S.FETCHING_OPTIONS,
        [ev.OptionsReceived(ev.OptionsResult(offers=[], refused=[]))],
        S.CHOOSE_TYPE,
    ),
    c("options_central_unreachable", S.FETCHING_OPTIONS, [ev.CentralUnreachable()], S.ISSUANCE_UNAVAILABLE),
    c("options_timeout", S.FETCHING_OPTIONS, [T], S.ISSUANCE_UNAVAILABLE),
    c("type_with_options", S.CHOOSE_TYPE, [ev.ChooseType("juminhyo")], S.CHOOSE_OPTIONS),
    c("type_without_options", S.CHOOSE_TYPE, [ev.ChooseType("inkan")], S.COPIES),
    c("refused_type_not_selectable", S.CHOOSE_TYPE, [ev.ChooseType("koseki_zenbu")], S.CHOOSE_TYPE),
    c("type_back", S.CHOOSE_TYPE, [ev.Back()], S.NAME_CONFIRM),
    c("option_chosen", S.CHOOSE_OPTIONS, [ev.ChooseOption("scope", "some")], S.CHOOSE_OPTIONS),
    c("options_next", S.CHOOSE_OPTIONS, [ev.Confirm()], S.COPIES),
    c("options_back", S.CHOOSE_OPTIONS, [ev.Back()], S.CHOOSE_TYPE),
    c("copies_set", S.COPIES, [ev.SetCopies(3)], S.COPIES),
    c("copies_next", S.COPIES, [ev.Confirm()], S.FEE_SUMMARY),
    c("copies_back_to_options", S.COPIES, [ev.Back()], S.CHOOSE_OPTIONS),
    c("copies_back_to_type", S.CHOOSE_TYPE, [ev.ChooseType("inkan"), ev.Back()], S.CHOOSE_TYPE),
    c("fee_next", S.FEE_SUMMARY, [ev.Confirm()], S.CHOOSE_METHOD),
    c("fee_back", S.FEE_SUMMARY, [ev.Back()], S.COPIES),
    c("method_chosen", S.CHOOSE_METHOD, [ev.ChooseMethod("qr")], S.CHECKING_PRINTER, cmd.PrepareDocument),
    c(
        "method_chosen_checks_printer",
        S.CHOOSE_METHOD,
        [ev.ChooseMethod("qr")],
        S.CHECKING_PRINTER,
        cmd.CheckPrinter,
    ),
    c("unoffered_method_ignored", S.CHOOSE_METHOD, [ev.ChooseMethod("cash")], S.CHOOSE_METHOD),
    c("method_back", S.CHOOSE_METHOD, [ev.Back()], S.FEE_SUMMARY),
    c("printer_ready", S.CHECKING_PRINTER, [ev.PrinterReady()], S.PAYING, cmd.StartPayment),
    c(
        "printer_not_ready",
        S.CHECKING_PRINTER,
        [ev.PrinterNotReady("out_of_paper")],
        S.PRINTER_UNAVAILABLE,
        cmd.CallStaffCommand,
    ),
    c("printer_check_timeout", S.CHECKING_PRINTER, [T], S.PRINTER_UNAVAILABLE, cmd.CallStaffCommand),
    c(
        "prepare_refused",
        S.CHECKING_PRINTER,
        [ev.AuthRefused(ev.Refusal(kind="outside_hours", reason="x"))],
        S.REFUSED,
    ),
    c("prepare_central_unreachable", S.CHECKING_PRINTER, [ev.CentralUnreachable()], S.ISSUANCE_UNAVAILABLE),
    c("payment_progress", S.PAYING, [ev.PaymentProgress("PIN")], S.PAYING),
    c("payment_cancel_asks_terminal", S.PAYING, [ev.Cancel()], S.PAYING, cmd.AbortPayment),
    c("payment_card_removed_asks_terminal", S.PAYING, [REMOVED], S.PAYING, cmd.AbortPayment),
    c("payment_timeout_unknown", S.PAYING, [T], S.PAYMENT_UNKNOWN, cmd.CallStaffCommand),
    c("payment_approved", S.PAYING, [approved], S.PRINTING, cmd.PrintDocument),
    c(
        "approval_after_card_pulled_prints_no_certificate",
        S.PAYING,
        [REMOVED, approved],
        S.VOIDED,
        cmd.PrintSlip,
        cmd.ReportIncident,
        cmd.CallStaffCommand,
    ),
    c("approval_for_another_ref_ignored", S.PAYING, [ev.PaymentApproved("someone-else")], S.PAYING),
    c("late_approval_after_unknown", S.PAYMENT_UNKNOWN, [approved], S.PRINTING, cmd.PrintDocument),
    c("declined_after_card_removed", S.PAYING, [REMOVED, ev.PaymentDeclined("cancelled")], S.HOME, *WIPE),
    c("declined_after_cancel", S.PAYING, [ev.Cancel(), ev.PaymentDeclined("cancelled")], S.TAKE_CARD, *WIPE),
    c("declined", S.PAYING, [ev.PaymentDeclined()], S.PAYMENT_DECLINED),
    c("declined_after_unknown", S.PAYMENT_UNKNOWN, [ev.PaymentDeclined()], S.PAYMENT_DECLINED),
    c("payment_unknown", S.PAYING, [ev.PaymentUnknown()], S.PAYMENT_UNKNOWN, cmd.CallStaffCommand),
    c("declined_try_again", S.PAYMENT_DECLINED, [ev.Confirm()], S.CHOOSE_METHOD),
    c("declined_back", S.PAYMENT_DECLINED, [ev.Back()], S.CHOOSE_METHOD),
    c("print_progress", S.PRINTING, [ev.PrintProgress(1, 3)], S.PRINTING),
    c("print_done", S.PRINTING, [ev.PrintDone()], S.TAKE_CERTIFICATE, cmd.ConfirmDocument, cmd.PlayCue),
    c(
        "print_failed",
        S.PRINTING,
        [ev.PrintFailed("paper_jam")],
        S.PRINT_FAILED,
        cmd.ConfirmDocument,
        cmd.CallStaffCommand,
    ),
    c("print_timeout", S.PRINTING, [T], S.PRINT_FAILED, cmd.CancelPrint, cmd.CallStaffCommand),
    c("reprint", S.PRINT_FAILED, [ev.Reprint()], S.PRINTING, cmd.ReportIncident, cmd.PrintDocument),
    c(
        "second_reprint_refused",
        S.PRINT_FAILED,
        [ev.Reprint(), ev.PrintFailed("jam"), ev.Reprint()],
        S.PRINT_FAILED,
    ),
    c("void", S.PRINT_FAILED, [ev.VoidDocument()], S.VOIDED, cmd.PrintSlip, cmd.ReportIncident),
    c("void_by_cancel", S.PRINT_FAILED, [ev.Cancel()], S.VOIDED, cmd.PrintSlip),
    c("void_by_timeout", S.PRINT_FAILED, [T], S.VOIDED, cmd.PrintSlip),
    c("certificate_taken_card_removed", S.TAKE_CERTIFICATE, [REMOVED], S.RATING, cmd.WipeSession),
    c("certificate_taken", S.TAKE_CERTIFICATE, [ev.Confirm()], S.TAKE_CARD, cmd.PlayCue),
    c("certificate_taken_card_already_out", S.PRINTING, [REMOVED, ev.PrintDone(), ev.Confirm()], S.RATING),
    c("take_certificate_timeout", S.TAKE_CERTIFICATE, [T], S.TAKE_CARD),
    c("take_certificate_timeout_card_out", S.PRINTING, [REMOVED, ev.PrintDone(), T], S.RATING),
    c("card_left_behind", S.TAKE_CARD, [T], S.CARD_LEFT_BEHIND, cmd.StartAlarm, cmd.CallStaffCommand),
    c("card_taken", S.TAKE_CARD, [REMOVED], S.RATING, cmd.WipeSession),
    c("card_taken_after_abort", S.LANGUAGE, [ev.Back(), REMOVED], S.HOME, setup=(CARD,)),
    c("left_card_taken", S.CARD_LEFT_BEHIND, [REMOVED], S.RATING, cmd.StopAlarm),
    c(
        "left_card_taken_after_abort",
        S.LANGUAGE,
        [ev.Back(), T, REMOVED],
        S.HOME,
        cmd.StopAlarm,
        setup=(CARD,),
    ),
    c("rated", S.RATING, [ev.Rate(4)], S.HOME, cmd.EmitStatistic),
    c("rating_out_of_range_ignored", S.RATING, [ev.Rate(9)], S.RATING),
    c("rating_skipped", S.RATING, [ev.SkipRating()], S.HOME, cmd.EmitStatistic),
    c("rating_cancel", S.RATING, [ev.Cancel()], S.HOME, cmd.EmitStatistic),
    c("rating_timeout", S.RATING, [T], S.HOME, cmd.EmitStatistic),
    c("more_time", S.MORE_TIME, [ev.MoreTime()], S.LANGUAGE),
    c("more_time_back", S.MORE_TIME, [ev.Back()], S.LANGUAGE),
    c("more_time_timeout_with_card", S.PIN_ENTRY, [T, T], S.TAKE_CARD, *WIPE),
    c("more_time_timeout", S.MORE_TIME, [T], S.HOME, *WIPE),
    c(
        "voided_card_out",
        S.PRINTING,
        [REMOVED, ev.PrintFailed("jam"), ev.VoidDocument(), ev.Confirm()],
        S.HOME,
    ),
    c("voided_card_out_timeout", S.PRINTING, [REMOVED, ev.PrintFailed("jam"), ev.VoidDocument(), T], S.HOME),
    c(
        "voided_card_out_cancel",
        S.PRINTING,
        [REMOVED, ev.PrintFailed("jam"), ev.VoidDocument(), ev.Cancel()],
        S.HOME,
    ),
    c("unknown_card_out", S.PAYING, [REMOVED, ev.PaymentUnknown(), ev.Confirm()], S.HOME, *WIPE),
    c("unknown_card_out_timeout", S.PAYING, [REMOVED, ev.PaymentUnknown(), T], S.HOME, *WIPE),
]
for _step in NOTICES:
    _name = _step.value
    CASES += [
        c(f"{_name}_ok", _step, [ev.Confirm()], S.TAKE_CARD, *WIPE),
        c(f"{_name}_timeout", _step, [T], S.TAKE_CARD, *WIPE),
        c(f"{_name}_card_removed", _step, [REMOVED], S.HOME, *WIPE),
    ]
    if _step is not S.PAYMENT_UNKNOWN:
        CASES.append(c(f"{_name}_cancel", _step, [ev.Cancel()], S.TAKE_CARD, *WIPE))
for _step in sorted(CARD_ABORTS, key=lambda s: s.value):
    _start, _pre = (S.PIN_ENTRY, [T]) if _step is S.MORE_TIME else (_step, [])
    CASES += [
        c(f"{_step.value}_card_removed_aborts", _start, [*_pre, REMOVED], S.HOME, *WIPE),
        c(f"{_step.value}_cancel", _start, [*_pre, ev.Cancel()], S.TAKE_CARD, *WIPE),
    ]
CASES += [c(f"{s.value}_cancel_no_card", s, [ev.Cancel()], S.HOME, *WIPE) for s in (S.LANGUAGE, S.PLACE_CARD)]
CASES += [
    c(f"{s.value}_idle_asks_more_time", s, [T], S.MORE_TIME)
    for s in sorted(IDLE_STEPS, key=lambda s: s.value)
]


def run_case(case: Case) -> tuple[Harness, list[Command], list[int]]:
    """Run one case; return the harness, the commands of the case's events and the rows they fired."""
    h = Harness().goto(case.start, case.setup)
    already = len(h.flow.machine.fired)
    out = h.send(*case.events)
    return h, out, h.flow.machine.fired[already:]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_transition(case: Case) -> None:
    """GIVEN the flow at a step WHEN the case's events arrive THEN it is at the expected step with those commands."""
    h, out, _ = run_case(case)
    assert h.step is case.end, f"{case.name}: ended in {h.step}"
    for kind in case.commands:
        assert of_type(out, kind), f"{case.name}: no {kind.__name__} in {out}"


def test_every_transition_row_has_a_case() -> None:
    """GIVEN the declared table WHEN every case runs THEN each row fired at least once (no untested row)."""
    fired: set[int] = set()
    for case in CASES:
        fired.update(run_case(case)[2])
    rows = Harness().flow.machine.spec.transitions
    missing = [
        f"#{i} {row.source!s:.60} --{row.on.__name__}--> {row.target}"
        for i, row in enumerate(rows)
        if i not in fired
    ]
    assert not missing, "transitions without a test case:\n" + "\n".join(missing)


def test_every_timeout_has_a_case() -> None:
    """GIVEN the states with a timeout WHEN listing the cases THEN each such state has a timeout case."""
    timed = {spec.state for spec in Harness().flow.machine.spec.states if spec.timeout is not None}
    covered = set()
    for case in CASES:
        h = Harness().goto(case.start, case.setup)
        for item in case.events:
            if item == T:
                covered.add(h.step)
            h.send(item)
    missing = sorted(step.value for step in timed - covered)
    assert not missing, f"steps whose timeout has no case: {missing}"
