"""The certificate self-issuance flow as a table: states with timeouts, then transitions in priority order.

home → language → place card → PIN → name → type → options → copies → fee → method → printer check →
payment → printing → take certificate → take card (alarm) → rating → home. Cancel and back on every
step; card removal before payment aborts and wipes; idle asks "more time?" first. Removing the card
while paying asks the terminal to abort; when its approval wins the race anyway, no certificate is
printed for an empty kiosk: a 未交付 slip and an incident instead. After money is taken, removing the
card no longer aborts: the paid certificate is still printed (the take-card step is then skipped).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kiosk_app.flows import commands as cmd
from kiosk_app.flows import events as ev
from kiosk_app.flows.core import ANY_STATE, RESUME, Command, MachineSpec, TimedOut, Transition
from kiosk_app.flows.issuance_context import IssuanceContext, Step
from kiosk_app.flows.issuance_states import (
    CANCELLABLE,
    CARD_ABORTS,
    IDLE_STEPS,
    NOTICES,
    PAYMENT_WAITS,
    state_specs,
)
from kiosk_app.flows.stats import AbortReason, Outcome
from madoguchi.contracts.languages import LANGUAGES

__all__ = ["build_spec"]

Ctx = IssuanceContext
Row = Transition[Step, Ctx, Any]


def _card_in(c: Ctx, _e: object) -> bool:
    return c.card_present


def _card_out(c: Ctx, _e: object) -> bool:
    return not c.card_present


def _ending(
    source: Step | frozenset[Step],
    on: type[Any],
    outcome: Outcome,
    reason: AbortReason,
    *,
    card_in: bool = False,
) -> list[Row]:
    """End the session: to "take your card" when it is still in the reader, else home.

    `card_in`: the card is always in the reader in `source` (its removal already ends the session).
    """

    def end(c: Ctx, _e: object) -> Sequence[Command]:
        return c.end(outcome, reason)

    if card_in:
        return [Row(source, on, Step.TAKE_CARD, None, end)]
    return [Row(source, on, Step.TAKE_CARD, _card_in, end), Row(source, on, Step.HOME, None, end)]


def _removed(c: Ctx, _e: object) -> list[Command]:
    c.card_present = False
    return []


def _was_completed(c: Ctx, _e: object) -> bool:
    return c.completed is not None


def _erase(c: Ctx, _e: object) -> None:
    if c.s.pin:
        c.s.pin.pop()


def _transitions() -> list[Row]:
    S = Step
    rows: list[Row] = [
        Row(S.HOME, ev.Start, S.LANGUAGE, lambda c, e: c.central_online, lambda c, e: c.begin()),
        # language
        Row(S.LANGUAGE, ev.ChooseLanguage, S.READING_CARD, lambda c, e: e.language in LANGUAGES and c.card_present,
            lambda c, e: setattr(c, "language", e.language)),
        Row(S.LANGUAGE, ev.ChooseLanguage, S.PLACE_CARD, lambda c, e: e.language in LANGUAGES,
            lambda c, e: setattr(c, "language", e.language)),
        *_ending(S.LANGUAGE, ev.Back, Outcome.ABORTED, AbortReason.CANCELLED),
        # place card
        Row(S.PLACE_CARD, ev.CardInserted, S.READING_CARD, None, lambda c, e: setattr(c, "card_present", True)),
        Row(S.PLACE_CARD, ev.Back, S.LANGUAGE),
        # reading the card
        Row(S.READING_CARD, ev.PinTriesRead, S.PIN_LOCKED, lambda c, e: e.tries_left <= 0,
            lambda c, e: setattr(c.s, "tries_left", 0)),
        Row(S.READING_CARD, ev.PinTriesRead, S.PIN_ENTRY, None, lambda c, e: setattr(c.s, "tries_left", e.tries_left)),
        Row(S.READING_CARD, ev.CardUnreadable, S.CARD_PROBLEM, None, lambda c, e: setattr(c.s, "problem", e.problem)),
        Row(S.READING_CARD, TimedOut, S.CARD_PROBLEM, None, lambda c, e: setattr(c.s, "problem", "timeout")),
        # PIN
        Row(S.PIN_ENTRY, ev.Digit, None, lambda c, e: e.digit.isdigit() and len(e.digit) == 1 and not c.pin_complete(),
            lambda c, e: c.s.pin.append(e.digit)),
        Row(S.PIN_ENTRY, ev.Erase, None, None, _erase),
        Row(S.PIN_ENTRY, ev.Confirm, S.VERIFYING, lambda c, e: c.pin_complete()),
        Row(S.PIN_ENTRY, ev.ForgotPin, S.PIN_FORGOTTEN, None, lambda c, e: c.s.clear_pin()),
        Row(S.PIN_ENTRY, ev.Back, S.LANGUAGE, None, lambda c, e: c.s.clear_pin()),
        Row(S.PIN_FORGOTTEN, ev.Back, S.PIN_ENTRY),
        # verifying PIN and authenticating with the central
        Row(S.VERIFYING, ev.AuthOk, S.NAME_CONFIRM, None, lambda c, e: setattr(c.s, "name", e.name)),
        Row(S.VERIFYING, ev.AuthFailed, S.PIN_LOCKED, lambda c, e: e.tries_left <= 0,
            lambda c, e: setattr(c.s, "tries_left", 0)),
        Row(S.VERIFYING, ev.AuthFailed, S.PIN_ENTRY, None, _wrong_pin),
        Row(S.VERIFYING, ev.AuthRefused, S.REFUSED, None, lambda c, e: setattr(c.s, "refusal", e.refusal)),
        Row(S.VERIFYING, ev.CentralUnreachable, S.ISSUANCE_UNAVAILABLE),
        Row(S.VERIFYING, TimedOut, S.ISSUANCE_UNAVAILABLE),
        # name
        Row(S.NAME_CONFIRM, ev.Confirm, S.FETCHING_OPTIONS),
        Row(S.NAME_CONFIRM, ev.Back, S.LANGUAGE, None, lambda c, e: setattr(c.s, "name", "")),
        # what the resident may have
        Row(S.FETCHING_OPTIONS, ev.OptionsReceived, S.CHOOSE_TYPE, None, _options),
        Row(S.FETCHING_OPTIONS, ev.CentralUnreachable, S.ISSUANCE_UNAVAILABLE),
        Row(S.FETCHING_OPTIONS, TimedOut, S.ISSUANCE_UNAVAILABLE),
        Row(S.CHOOSE_TYPE, ev.ChooseType, S.CHOOSE_OPTIONS, lambda c, e: c.offered(e.type_id) and c.has_options(e.type_id),
            _choose_type),
        Row(S.CHOOSE_TYPE, ev.ChooseType, S.COPIES, lambda c, e: c.offered(e.type_id), _choose_type),
        Row(S.CHOOSE_TYPE, ev.Back, S.NAME_CONFIRM),
        Row(S.CHOOSE_OPTIONS, ev.ChooseOption, None, lambda c, e: c.valid_choice(e),
            lambda c, e: c.s.choices.__setitem__(e.option_id, e.choice_id)),
        Row(S.CHOOSE_OPTIONS, ev.Confirm, S.COPIES),
        Row(S.CHOOSE_OPTIONS, ev.Back, S.CHOOSE_TYPE),
        Row(S.COPIES, ev.SetCopies, None, lambda c, e: c.valid_copies(e.copies), lambda c, e: setattr(c.s, "copies", e.copies)),
        Row(S.COPIES, ev.Confirm, S.FEE_SUMMARY),
        Row(S.COPIES, ev.Back, S.CHOOSE_OPTIONS, lambda c, e: c.has_options(c.s.type_id)),
        Row(S.COPIES, ev.Back, S.CHOOSE_TYPE),
        Row(S.FEE_SUMMARY, ev.Confirm, S.CHOOSE_METHOD),
        Row(S.FEE_SUMMARY, ev.Back, S.COPIES),
        # payment: the printer is checked first, so no money is taken when it cannot print
        Row(S.CHOOSE_METHOD, ev.ChooseMethod, S.CHECKING_PRINTER, lambda c, e: e.method_id in c.settings.methods,
            lambda c, e: setattr(c.s, "method_id", e.method_id)),
        Row(S.CHOOSE_METHOD, ev.Back, S.FEE_SUMMARY),
        Row(S.CHECKING_PRINTER, ev.PrinterReady, S.PAYING),
        Row(S.CHECKING_PRINTER, ev.PrinterNotReady, S.PRINTER_UNAVAILABLE, None, lambda c, e: setattr(c.s, "problem", e.problem)),
        Row(S.CHECKING_PRINTER, TimedOut, S.PRINTER_UNAVAILABLE, None, lambda c, e: setattr(c.s, "problem", "timeout")),
        Row(S.CHECKING_PRINTER, ev.AuthRefused, S.REFUSED, None, lambda c, e: setattr(c.s, "refusal", e.refusal)),
        Row(S.CHECKING_PRINTER, ev.CentralUnreachable, S.ISSUANCE_UNAVAILABLE),
        Row(S.PAYING, ev.PaymentProgress, None, None, lambda c, e: setattr(c.s, "payment_phase", e.phase)),
        Row(S.PAYING, ev.Cancel, None, None, _abort_payment),
        Row(S.PAYING, ev.CardRemoved, None, None, lambda c, e: _removed(c, e) + _abort_payment(c, e)),
        Row(S.PAYING, TimedOut, S.PAYMENT_UNKNOWN),
        Row(PAYMENT_WAITS, ev.PaymentApproved, S.VOIDED,
            lambda c, e: e.ref == c.s.payment_ref and not c.card_present and c.s.cancel_requested, _paid_without_card),
        Row(PAYMENT_WAITS, ev.PaymentApproved, S.PRINTING,
            lambda c, e: e.ref == c.s.payment_ref, lambda c, e: setattr(c.s, "paid", True)),
        Row(PAYMENT_WAITS, ev.PaymentDeclined, S.HOME, _card_out, lambda c, e: c.end(Outcome.ABORTED, AbortReason.CARD_REMOVED)),
        Row(PAYMENT_WAITS, ev.PaymentDeclined, S.TAKE_CARD, lambda c, e: c.s.cancel_requested,
            lambda c, e: c.end(Outcome.ABORTED, AbortReason.CANCELLED)),
        Row(PAYMENT_WAITS, ev.PaymentDeclined, S.PAYMENT_DECLINED),
        Row(S.PAYING, ev.PaymentUnknown, S.PAYMENT_UNKNOWN),
        Row(S.PAYMENT_DECLINED, ev.Confirm, S.CHOOSE_METHOD),
        Row(S.PAYMENT_DECLINED, ev.Back, S.CHOOSE_METHOD),
        # printing
        Row(S.PRINTING, ev.PrintProgress, None, None, lambda c, e: setattr(c.s, "printed_pages", (e.done, e.total))),
        Row(S.PRINTING, ev.PrintDone, S.TAKE_CERTIFICATE, None, lambda c, e: c.complete()),
        Row(S.PRINTING, ev.PrintFailed, S.PRINT_FAILED, None, lambda c, e: _print_failed(c, e.problem)),
        Row(S.PRINTING, TimedOut, S.PRINT_FAILED, None,
            lambda c, e: [cmd.CancelPrint(c.s.ref), *_print_failed(c, "timeout")]),
        Row(S.PRINT_FAILED, ev.Reprint, S.PRINTING, lambda c, e: c.s.reprints < c.settings.max_reprints, _reprint),
        Row(S.PRINT_FAILED, ev.VoidDocument, S.VOIDED, None, _void),
        Row(S.PRINT_FAILED, ev.Cancel, S.VOIDED, None, _void),
        Row(S.PRINT_FAILED, TimedOut, S.VOIDED, None, _void),
        # handing over
        Row(S.TAKE_CERTIFICATE, ev.CardRemoved, S.RATING, None, _removed),
        Row(S.TAKE_CERTIFICATE, ev.Confirm, S.TAKE_CARD, _card_in),
        Row(S.TAKE_CERTIFICATE, ev.Confirm, S.RATING),
        Row(S.TAKE_CERTIFICATE, TimedOut, S.TAKE_CARD, _card_in),
        Row(S.TAKE_CERTIFICATE, TimedOut, S.RATING),
        Row(S.TAKE_CARD, TimedOut, S.CARD_LEFT_BEHIND),
        Row(S.TAKE_CARD, ev.CardRemoved, S.RATING, _was_completed, _removed),
        Row(S.TAKE_CARD, ev.CardRemoved, S.HOME, None, _removed),
        Row(S.CARD_LEFT_BEHIND, ev.CardRemoved, S.RATING, _was_completed, lambda c, e: [*_removed(c, e), cmd.StopAlarm()]),
        Row(S.CARD_LEFT_BEHIND, ev.CardRemoved, S.HOME, None, lambda c, e: [*_removed(c, e), cmd.StopAlarm()]),
        Row(S.RATING, ev.Rate, S.HOME, lambda c, e: 1 <= e.stars <= 5, lambda c, e: c.rated(e.stars)),
        Row(S.RATING, ev.SkipRating, S.HOME, None, lambda c, e: c.rated(None)),
        Row(S.RATING, ev.Cancel, S.HOME, None, lambda c, e: c.rated(None)),
        Row(S.RATING, TimedOut, S.HOME, None, lambda c, e: c.rated(None)),
        # "more time?"
        Row(S.MORE_TIME, ev.MoreTime, RESUME),
        Row(S.MORE_TIME, ev.Back, RESUME),
        *_ending(S.MORE_TIME, TimedOut, Outcome.ABORTED, AbortReason.IDLE_TIMEOUT),
    ]  # fmt: skip
    for step, (outcome, reason) in NOTICES.items():
        after_payment = step in (S.VOIDED, S.PAYMENT_UNKNOWN)  # the card may already be out
        rows += _ending(step, ev.Confirm, outcome, reason, card_in=not after_payment)
        rows += _ending(step, TimedOut, outcome, reason, card_in=not after_payment)
        rows.append(Row(step, ev.CardRemoved, S.HOME, None, _end_removed(outcome, reason)))
        if step is not S.PAYMENT_UNKNOWN:
            rows += _ending(step, ev.Cancel, outcome, reason, card_in=not after_payment)
    rows += [
        Row(
            frozenset(CARD_ABORTS),
            ev.CardRemoved,
            S.HOME,
            _card_in,
            lambda c, e: _removed(c, e) + c.end(Outcome.ABORTED, AbortReason.CARD_REMOVED),
        ),
        *_ending(frozenset(CANCELLABLE), ev.Cancel, Outcome.ABORTED, AbortReason.CANCELLED),
        Row(frozenset(IDLE_STEPS), TimedOut, S.MORE_TIME, None, lambda c, e: c.s.clear_pin()),
        Row(ANY_STATE, ev.CardInserted, None, None, lambda c, e: setattr(c, "card_present", True)),
        Row(ANY_STATE, ev.CardRemoved, None, None, _removed),
        Row(
            ANY_STATE,
            ev.ServiceStatus,
            None,
            None,
            lambda c, e: setattr(c, "central_online", e.central_online),
        ),
    ]
    return rows


def _end_removed(outcome: Outcome, reason: AbortReason) -> Any:
    return lambda c, e: _removed(c, e) + c.end(outcome, reason)


def _wrong_pin(c: Ctx, e: ev.AuthFailed) -> None:
    c.s.tries_left = e.tries_left
    c.s.pin_error = True


def _options(c: Ctx, e: ev.OptionsReceived) -> None:
    c.s.offers = tuple(e.result.offers)
    c.s.refused = tuple(e.result.refused)


def _choose_type(c: Ctx, e: ev.ChooseType) -> None:
    c.s.type_id = e.type_id
    offer = c.s.offer
    assert offer is not None
    c.s.choices = dict(offer.defaults)
    c.s.copies = min(c.s.copies, offer.max_copies) or 1


def _abort_payment(c: Ctx, _e: object) -> list[Command]:
    c.s.cancel_requested = True
    return [cmd.AbortPayment(c.s.payment_ref)] if c.s.payment_ref else []


def _paid_without_card(c: Ctx, _e: object) -> list[Command]:
    """The terminal approved although the resident pulled the card and left: print no certificate for an
    empty kiosk; a 未交付 slip and an incident let staff hand it over free or refund."""
    c.s.paid = True
    ref = c.s.ref
    return [
        cmd.PrintSlip("undelivered", ref),
        cmd.ReportIncident("paid_after_card_removed", ref),
        cmd.CallStaffCommand("paid_after_card_removed", "card_removed"),
    ]


def _print_failed(c: Ctx, problem: str) -> list[Command]:
    c.s.problem = problem
    return [cmd.ConfirmDocument(c.s.ref, "failed"), cmd.CallStaffCommand("print_failed", problem)]


def _reprint(c: Ctx, _e: object) -> list[Command]:
    c.s.reprints += 1
    return [cmd.ReportIncident("reprint_after_error", c.s.ref)]


def _void(c: Ctx, _e: object) -> list[Command]:
    ref = c.s.ref
    return [
        cmd.ConfirmDocument(ref, "void"),
        cmd.PrintSlip("undelivered", ref),
        cmd.ReportIncident("print_failed", ref),
    ]


def build_spec() -> MachineSpec[Step, Ctx]:
    """The machine specification of the certificate flow."""
    return MachineSpec(
        state_specs(), _transitions(), Step.HOME, on_exit=lambda c, step, secs: c.steps.add(step.value, secs)
    )
