"""States of the certificate flow: which steps exist in which group, their timeouts and entry commands."""

from __future__ import annotations

from typing import Any

from kiosk_app.flows import commands as cmd
from kiosk_app.flows.core import Command, StateSpec
from kiosk_app.flows.issuance_context import IssuanceContext, Step
from kiosk_app.flows.stats import AbortReason, Outcome

__all__ = [
    "CANCELLABLE",
    "CARD_ABORTS",
    "DEVICE_WAITS",
    "EXTENDABLE",
    "IDLE_STEPS",
    "NOTICES",
    "PAYMENT_WAITS",
    "state_specs",
]

Ctx = IssuanceContext

# Steps where the resident is deciding something: idle leads to the "more time?" prompt.
IDLE_STEPS = frozenset({
    Step.LANGUAGE, Step.PLACE_CARD, Step.PIN_ENTRY, Step.NAME_CONFIRM, Step.CHOOSE_TYPE,
    Step.CHOOSE_OPTIONS, Step.COPIES, Step.FEE_SUMMARY, Step.CHOOSE_METHOD, Step.PAYMENT_DECLINED,
})  # fmt: skip
# Steps before any money is taken, where the card has been read: removing it aborts.
CARD_ABORTS = (IDLE_STEPS - {Step.LANGUAGE, Step.PLACE_CARD}) | {
    Step.READING_CARD, Step.VERIFYING, Step.FETCHING_OPTIONS, Step.CHECKING_PRINTER, Step.MORE_TIME,
}  # fmt: skip
CANCELLABLE = CARD_ABORTS | {Step.LANGUAGE, Step.PLACE_CARD}
PAYMENT_WAITS = frozenset({Step.PAYING, Step.PAYMENT_UNKNOWN})
# Notices that end the session when the resident has read them (or after a while); value = why.
NOTICES: dict[Step, tuple[Outcome, AbortReason]] = {
    Step.PIN_FORGOTTEN: (Outcome.ABORTED, AbortReason.PIN_FORGOTTEN),
    Step.PIN_LOCKED: (Outcome.ABORTED, AbortReason.PIN_LOCKED),
    Step.CARD_PROBLEM: (Outcome.ABORTED, AbortReason.CARD_UNREADABLE),
    Step.REFUSED: (Outcome.ABORTED, AbortReason.REFUSED),
    Step.ISSUANCE_UNAVAILABLE: (Outcome.ABORTED, AbortReason.CENTRAL_UNREACHABLE),
    Step.PRINTER_UNAVAILABLE: (Outcome.ABORTED, AbortReason.PRINTER_UNAVAILABLE),
    Step.VOIDED: (Outcome.FAILED, AbortReason.PRINT_FAILED),
    Step.PAYMENT_UNKNOWN: (Outcome.FAILED, AbortReason.PAYMENT_UNKNOWN),
}

# Timeouts that wait for the resident: 時間を延長 is offered and the count-down shown.
EXTENDABLE = (IDLE_STEPS | NOTICES.keys() | {
    Step.PRINT_FAILED, Step.TAKE_CERTIFICATE, Step.RATING, Step.MORE_TIME,
}) - {Step.PAYMENT_UNKNOWN}  # fmt: skip
# Timeouts that are watchdogs on a device or the central (the resident cannot speed them up), and the
# take-card step, whose timeout only starts the card-left-behind alarm: not extendable.
DEVICE_WAITS = frozenset({
    Step.READING_CARD, Step.VERIFYING, Step.FETCHING_OPTIONS, Step.CHECKING_PRINTER, Step.PAYING,
    Step.PAYMENT_UNKNOWN, Step.PRINTING, Step.TAKE_CARD,
})  # fmt: skip


def state_specs() -> list[StateSpec[Step, Ctx]]:
    def idle(c: Ctx) -> float:
        return c.settings.idle_timeout_s

    def notice(c: Ctx) -> float:
        return c.settings.notice_s

    def staff(reason: str) -> Any:
        return lambda c: [cmd.CallStaffCommand(reason, reason)]

    timeouts: dict[Step, Any] = dict.fromkeys(IDLE_STEPS, idle) | dict.fromkeys(NOTICES, notice)
    timeouts |= {
        Step.READING_CARD: lambda c: c.settings.device_timeout_s,
        Step.VERIFYING: lambda c: c.settings.central_timeout_s,
        Step.FETCHING_OPTIONS: lambda c: c.settings.central_timeout_s,
        Step.CHECKING_PRINTER: lambda c: c.settings.device_timeout_s,
        Step.PAYING: lambda c: c.settings.payment_timeout_s,
        Step.PAYMENT_UNKNOWN: lambda c: c.settings.unknown_timeout_s,
        Step.PRINTING: lambda c: c.settings.print_timeout_s,
        Step.PRINT_FAILED: idle,
        Step.TAKE_CERTIFICATE: lambda c: c.settings.take_certificate_s,
        Step.TAKE_CARD: lambda c: c.settings.card_alarm_after_s,
        Step.RATING: lambda c: c.settings.rating_s,
        Step.MORE_TIME: lambda c: c.settings.more_time_s,
    }
    enter: dict[Step, Any] = {
        Step.READING_CARD: lambda c: [cmd.ReadCardTries()],
        Step.PIN_ENTRY: lambda c: c.s.clear_pin(),
        Step.VERIFYING: _verify,
        Step.FETCHING_OPTIONS: lambda c: [cmd.RequestOptions(c.s.ref, c.language)],
        Step.CHECKING_PRINTER: _prepare_and_check,
        Step.PRINTER_UNAVAILABLE: staff("printer_unavailable"),
        Step.PAYING: _start_payment,
        Step.PAYMENT_UNKNOWN: staff("payment_unknown"),
        Step.PRINTING: _print,
        Step.TAKE_CARD: lambda c: [cmd.PlayCue("take_card")],
        Step.CARD_LEFT_BEHIND: lambda c: [
            cmd.StartAlarm(),
            cmd.CallStaffCommand("card_left_behind", "card_left_behind"),
        ],
        Step.RATING: lambda c: c.wipe_completed(),
    }
    return [
        StateSpec(
            step,
            timeouts.get(step),
            _or_empty(enter.get(step)),
            modal=step is Step.MORE_TIME,
            extendable=step in EXTENDABLE,
        )
        for step in Step
    ]


def _or_empty(func: Any) -> Any:
    if func is None:
        return None
    return lambda c: func(c) or []


def _verify(c: Ctx) -> list[Command]:
    pin = "".join(c.s.pin)
    c.s.clear_pin()
    c.s.pin_error = False
    return [cmd.VerifyPinAndAuthenticate(c.s.ref, pin, c.language)]


def _prepare_and_check(c: Ctx) -> list[Command]:
    s = c.s
    assert s.type_id is not None
    choices = tuple(sorted(s.choices.items()))
    return [cmd.PrepareDocument(s.ref, s.type_id, choices, s.copies), cmd.CheckPrinter("a4")]


def _start_payment(c: Ctx) -> list[Command]:
    c.s.payment_ref = c.make_ref()
    c.s.payment_phase = ""
    c.s.cancel_requested = False
    assert c.s.method_id is not None
    return [cmd.StartPayment(c.s.payment_ref, c.s.fee_yen, c.s.method_id)]


def _print(c: Ctx) -> list[Command]:
    s = c.s
    assert s.type_id is not None and s.payment_ref is not None
    s.printed_pages = (0, 0)
    choices = tuple(sorted(s.choices.items()))
    return [cmd.PrintDocument(s.ref, s.payment_ref, s.type_id, choices, s.copies, c.language, s.reprints > 0)]
