"""What the message screen shows for each step without a screen of its own: title, text, buttons.

Problem codes become texts through the one table (`kiosk_app.i18n.problems`); where to go after a
refusal is the counter with its floor from the catalog, and a web address becomes a QR code for the
resident's phone (a kiosk user cannot tap a URL).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kiosk_app.flows import events as ev
from kiosk_app.flows.core import Event
from kiosk_app.flows.issuance import IssuanceView
from kiosk_app.flows.issuance_context import Step
from kiosk_app.flows.register import RegisterStep, RegisterView
from kiosk_app.i18n.keys import phase_key
from kiosk_app.i18n.problems import problem_key
from kiosk_app.ui.text import Texts
from madoguchi.contracts.catalog import Catalog

__all__ = ["MessageContent", "counter_line", "message_for", "problem_text", "split_url"]

# A web address with the brackets and spaces around it: `（https://…）` or `(https://…)`.
_URL = re.compile(r"\s*[（(]?\s*(https?://[^\s）)]+)\s*[）)]?")

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
    emphasis: bool = False  # the body is what to do now: as large as the title, right under it
    qr: str = ""  # a web address to show as a QR code (with a caption)


def split_url(text: str) -> tuple[str, str]:
    """`text` without its first web address (and the brackets around it), and that address."""
    match = _URL.search(text)
    if match is None:
        return text, ""
    rest = (text[: match.start()] + text[match.end() :]).strip()
    return rest, match.group(1).rstrip(".,。")


def counter_line(t: Texts, catalog: Catalog | None, counter_id: str | None, language: str) -> str:
    """ "Counter 2, floor 1: Citizens Division" for a catalog counter id ("" when unknown)."""
    if catalog is None or not counter_id:
        return ""
    try:
        counter = catalog.counter(counter_id)
    except LookupError:
        return ""
    name = counter.names.text(language)
    if counter.number:
        return t.t("where_to_go.counter", number=counter.number, floor=counter.floor, counter=name)
    return t.t("where_to_go.floor", floor=counter.floor, counter=name)


def problem_text(t: Texts, code: str) -> str:
    """The resident's text for a problem code; plain Japanese + English when the language has none."""
    key = problem_key(code)
    translator = t.translator
    if translator.has(key) or translator.language in ("ja", "ja-x-easy", "en"):
        return t.t(key)
    return t.data(translator.explain(key))


def _where(t: Texts, place: str) -> str:
    return t.t("where_to_go", place=place) if place else ""


def _refused(view: IssuanceView, t: Texts, catalog: Catalog | None) -> MessageContent:
    refusal = view.refusal
    if refusal is None:
        return MessageContent(t.t("refused.title"), buttons=(OK,))
    place, url = split_url(refusal.where_to_go)
    counter = counter_line(t, catalog, refusal.counter, view.language)
    detail = "\n".join(part for part in (counter, _where(t, place)) if part)
    return MessageContent(t.t("refused.title"), t.data(refusal.reason), detail, (OK,), qr=url)


def _certificate(view: IssuanceView, t: Texts, pin_help: str, catalog: Catalog | None) -> MessageContent:
    s = Step
    step = view.step
    problem = problem_text(t, view.problem) if view.problem else ""
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
        return _refused(view, t, catalog)
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
            t.t("paying.title"), phase, t.t("fee.total", fee=f"{view.fee_yen:,}"), (CANCEL,), emphasis=True
        )
    if step is s.PRINTING:
        done, total = view.printed_pages
        return MessageContent(
            t.t("printing.title"),
            t.t("printing.pages", done=done, total=total) if total else "",
            emphasis=True,
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
            t.t(phase_key(view.payment_phase)) if view.payment_phase else "",
            total,
            (CANCEL,),
            emphasis=True,
        ),
        r.PAYMENT_DECLINED: MessageContent(
            t.t("declined.title"),
            t.t("declined.body"),
            buttons=(("button.other_method", ev.Confirm()), CANCEL),
        ),
        r.PAYMENT_UNKNOWN: MessageContent(
            t.t("payment_unknown.title"), t.t("payment_unknown.body"), alert=True
        ),
        r.PRINTING_RECEIPT: MessageContent(t.t("printing.title"), emphasis=True),
        r.RECEIPT_FAILED: MessageContent(t.t("register.receipt_failed.title"), buttons=(OK,)),
        r.DONE: MessageContent(t.t("register.done.title"), buttons=(OK,)),
        r.MORE_TIME: MessageContent(
            t.t("more_time.title"),
            t.t("more_time.body", seconds=round(view.time_left or 0)),
            buttons=(("button.more_time", ev.MoreTime()), CANCEL),
        ),
    }
    return table.get(step, MessageContent(t.data(step.value)))


def message_for(
    view: IssuanceView | RegisterView, t: Texts, pin_help: str = "", catalog: Catalog | None = None
) -> MessageContent:
    """The message screen's content for the current step; `pin_help` says where to go about a PIN."""
    if isinstance(view, IssuanceView):
        return _certificate(view, t, pin_help, catalog)
    return _register(view, t)
