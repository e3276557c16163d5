"""What the message screen shows for each step without a screen of its own: title, text, buttons."""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk_app.flows import events as ev
from kiosk_app.flows.core import Event
from kiosk_app.flows.issuance import IssuanceView
from kiosk_app.flows.issuance_context import Step
from kiosk_app.flows.register import RegisterStep, RegisterView
from kiosk_app.i18n.keys import phase_key, problem_key
from kiosk_app.ui.text import Texts

__all__ = ["MessageContent", "message_for"]

OK, BACK, CANCEL = ("button.ok", ev.Confirm()), ("button.back", ev.Back()), ("button.cancel", ev.Cancel())


@dataclass(frozen=True)
class MessageContent:
    """Title, body and detail markup, buttons as (message id, event), and whether it is an alarm."""

    title: str
    body: str = ""
    detail: str = ""
    buttons: tuple[tuple[str, Event], ...] = ()
    alert: bool = False
    extra: tuple[str, ...] = field(default_factory=tuple)


def _where(t: Texts, place: str) -> str:
    return t.t("where_to_go", place=place) if place else ""


def _certificate(view: IssuanceView, t: Texts, pin_help: str) -> MessageContent:
    s = Step
    step = view.step
    problem = t.t(problem_key(view.problem)) if view.problem else ""
    simple = {
        s.PLACE_CARD: MessageContent(t.t("place_card.title"), t.t("place_card.hint"), buttons=(BACK, CANCEL)),
        s.READING_CARD: MessageContent(t.t("reading_card.title"), buttons=(CANCEL,)),
        s.VERIFYING: MessageContent(t.t("verifying.title")),
        s.FETCHING_OPTIONS: MessageContent(t.t("fetching.title"), buttons=(CANCEL,)),
        s.CHECKING_PRINTER: MessageContent(t.t("checking_printer.title")),
        s.PIN_LOCKED: MessageContent(
            t.t("pin_locked.title"), t.t("pin_locked.body"), _where(t, pin_help), buttons=(OK,)
        ),
        s.CARD_PROBLEM: MessageContent(t.t("card_problem.title"), problem, buttons=(OK,)),
        s.ISSUANCE_UNAVAILABLE: MessageContent(
            t.t("unavailable.title"), t.t("unavailable.body"), buttons=(OK,)
        ),
        s.PRINTER_UNAVAILABLE: MessageContent(
            t.t("printer_unavailable.title"), problem, t.t("printer_unavailable.body"), buttons=(OK,)
        ),
        s.PAYMENT_DECLINED: MessageContent(
            t.t("declined.title"),
            t.t("declined.body"),
            buttons=(("button.other_method", ev.Confirm()), CANCEL),
        ),
        s.PAYMENT_UNKNOWN: MessageContent(
            t.t("payment_unknown.title"), t.t("payment_unknown.body"), alert=True
        ),
        s.VOIDED: MessageContent(t.t("voided.title"), t.t("voided.body"), buttons=(OK,)),
        s.TAKE_CERTIFICATE: MessageContent(t.t("take_certificate.title"), buttons=(OK,)),
        s.TAKE_CARD: MessageContent(t.t("take_card.title")),
        s.CARD_LEFT_BEHIND: MessageContent(t.t("card_left.title"), t.t("take_card.title"), alert=True),
    }
    if step in simple:
        return simple[step]
    if step is s.PIN_FORGOTTEN:
        return MessageContent(
            t.t("pin_forgotten.title"), t.t("pin_forgotten.body"), _where(t, pin_help), buttons=(BACK, OK)
        )
    if step is s.REFUSED:
        refusal = view.refusal
        reason = t.data(refusal.reason) if refusal else ""
        return MessageContent(
            t.t("refused.title"), reason, _where(t, refusal.where_to_go if refusal else ""), (OK,)
        )
    if step is s.NAME_CONFIRM:
        return MessageContent(
            t.t("name.title"),
            t.t("name.body", name=view.masked_name),
            buttons=(BACK, ("button.yes", ev.Confirm()), CANCEL),
        )
    if step is s.FEE_SUMMARY:
        return MessageContent(
            t.t("fee.title"),
            t.t("fee.total", fee=f"{view.fee_yen:,}"),
            t.t("fee.rules"),
            (BACK, ("button.next", ev.Confirm()), CANCEL),
        )
    if step is s.PAYING:
        phase = t.t(phase_key(view.payment_phase)) if view.payment_phase else ""
        return MessageContent(
            t.t("paying.title"), t.t("fee.total", fee=f"{view.fee_yen:,}"), phase, (CANCEL,)
        )
    if step is s.PRINTING:
        done, total = view.printed_pages
        return MessageContent(
            t.t("printing.title"), t.t("printing.pages", done=done, total=total) if total else ""
        )
    if step is s.PRINT_FAILED:
        buttons = ((("button.reprint", ev.Reprint()),) if view.can_reprint else ()) + (
            ("button.void", ev.VoidDocument()),
        )
        return MessageContent(t.t("print_failed.title"), problem, t.t("print_failed.body"), buttons)
    if step is s.MORE_TIME:
        seconds = round(view.time_left or 0)
        return MessageContent(
            t.t("more_time.title"),
            t.t("more_time.body", seconds=seconds),
            buttons=(("button.more_time", ev.MoreTime()), CANCEL),
        )
    return MessageContent(t.data(step.value))


def _register(view: RegisterView, t: Texts) -> MessageContent:
    r = RegisterStep
    step = view.step
    total = t.t("fee.total", fee=f"{view.order.total_yen:,}") if view.order else ""
    table = {
        r.SCAN: MessageContent(
            t.t("register.scan.title"), buttons=(("button.type_code", ev.TypeCodeInstead()), BACK)
        ),
        r.LOOKING_UP: MessageContent(t.t("register.looking_up.title"), buttons=(CANCEL,)),
        r.NOT_FOUND: MessageContent(
            t.t(f"register.not_found.{view.not_found_reason or 'not_found'}"), buttons=(OK, CANCEL)
        ),
        r.UNAVAILABLE: MessageContent(t.t("register.unavailable.title"), buttons=(OK,)),
        r.CHECKING_PRINTER: MessageContent(t.t("checking_printer.title")),
        r.PRINTER_UNAVAILABLE: MessageContent(
            t.t("printer_unavailable.title"), t.t("printer_unavailable.body"), buttons=(OK,)
        ),
        r.PAYING: MessageContent(
            t.t("paying.title"),
            total,
            t.t(phase_key(view.payment_phase)) if view.payment_phase else "",
            (CANCEL,),
        ),
        r.PAYMENT_DECLINED: MessageContent(
            t.t("declined.title"),
            t.t("declined.body"),
            buttons=(("button.other_method", ev.Confirm()), CANCEL),
        ),
        r.PAYMENT_UNKNOWN: MessageContent(
            t.t("payment_unknown.title"), t.t("payment_unknown.body"), alert=True
        ),
        r.PRINTING_RECEIPT: MessageContent(t.t("printing.title")),
        r.RECEIPT_FAILED: MessageContent(t.t("register.receipt_failed.title"), buttons=(OK,)),
        r.DONE: MessageContent(t.t("register.done.title"), buttons=(OK,)),
        r.MORE_TIME: MessageContent(
            t.t("more_time.title"),
            t.t("more_time.body", seconds=round(view.time_left or 0)),
            buttons=(("button.more_time", ev.MoreTime()), CANCEL),
        ),
    }
    return table.get(step, MessageContent(t.data(step.value)))


def message_for(view: IssuanceView | RegisterView, t: Texts, pin_help: str = "") -> MessageContent:
    """The message screen's content for the current step; `pin_help` says where to go about a PIN."""
    if isinstance(view, IssuanceView):
        return _certificate(view, t, pin_help)
    return _register(view, t)
