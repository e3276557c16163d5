"""Commands a flow asks its runner to execute; results come back as events.

Commands carry no personal data except `VerifyPinAndAuthenticate.pin`, which goes to the card only and
is hidden from `repr`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk_app.flows.core import Command
from kiosk_app.flows.stats import SessionStats

__all__ = [
    "AbortPayment",
    "CallStaffCommand",
    "CancelPrint",
    "CancelStaffCallCommand",
    "CheckPrinter",
    "ConfirmDocument",
    "EmitStatistic",
    "LookupOrder",
    "MarkOrderPaid",
    "PlayCue",
    "PrepareDocument",
    "PrintDocument",
    "PrintReceipt",
    "PrintSlip",
    "ReadCardTries",
    "ReportIncident",
    "RequestOptions",
    "StartAlarm",
    "StartPayment",
    "StopAlarm",
    "VerifyPinAndAuthenticate",
    "WipeSession",
]


@dataclass(frozen=True)
class ReadCardTries(Command):
    """Read how many PIN tries are left; answer `PinTriesRead` or `CardUnreadable`."""


@dataclass(frozen=True)
class VerifyPinAndAuthenticate(Command):
    """Verify the PIN on the card and authenticate to the central; answer AuthOk/AuthFailed/AuthRefused."""

    session_ref: str
    pin: str = field(repr=False)
    language: str = "ja"  # the resident's: refusal texts come in it


@dataclass(frozen=True)
class RequestOptions(Command):
    """Ask the central what this resident may have; answer `OptionsReceived` or `CentralUnreachable`."""

    session_ref: str
    language: str


@dataclass(frozen=True)
class CheckPrinter(Command):
    """Check the printer for this session (`a4` or `receipt`) before taking money."""

    printer: str


@dataclass(frozen=True)
class PrepareDocument(Command):
    """Before payment: have the central check the request and render it while the resident pays.

    Answered only when it fails: `AuthRefused` (refused, with the reason) or `CentralUnreachable`.
    """

    session_ref: str
    type_id: str
    choices: tuple[tuple[str, str], ...]
    copies: int


@dataclass(frozen=True)
class StartPayment(Command):
    """Start a sale of `amount_yen` with one method, under our own unique reference.

    `order_id` is the payment order (semi-self register) the sale pays, None for a certificate.
    """

    ref: str
    amount_yen: int
    method_id: str
    order_id: str | None = None


@dataclass(frozen=True)
class AbortPayment(Command):
    """Ask the terminal to abort the sale `ref` (a racing approval still stands)."""

    ref: str


@dataclass(frozen=True)
class PrintDocument(Command):
    """Issue the paid certificate bound to this session and print it; answer PrintDone/PrintFailed."""

    session_ref: str
    payment_ref: str
    type_id: str
    choices: tuple[tuple[str, str], ...]
    copies: int
    language: str
    reprint: bool = False


@dataclass(frozen=True)
class CancelPrint(Command):
    """Stop the print job of this session (its output must never reach a later resident)."""

    session_ref: str


@dataclass(frozen=True)
class ConfirmDocument(Command):
    """Report the document's outcome to the central: printed, failed (reprint allowed) or void."""

    session_ref: str
    outcome: str


@dataclass(frozen=True)
class PrintSlip(Command):
    """Print a slip on the receipt printer, e.g. `undelivered` (未交付, free re-issue at the counter)."""

    kind: str
    session_ref: str


@dataclass(frozen=True)
class LookupOrder(Command):
    """Fetch a payment order by code from the central; answer OrderFound/OrderNotFound/CentralUnreachable."""

    code: str


@dataclass(frozen=True)
class MarkOrderPaid(Command):
    """Tell the central the order is paid with payment `ref`."""

    order_id: str
    payment_ref: str
    method_id: str


@dataclass(frozen=True)
class PrintReceipt(Command):
    """Print the 領収書 / 利用控え of a register payment; answer PrintDone/PrintFailed."""

    order_id: str
    payment_ref: str
    method_id: str


@dataclass(frozen=True)
class WipeSession(Command):
    """Forget everything about the session on the runner side too (card session, screens' copies)."""

    session_ref: str


@dataclass(frozen=True)
class CallStaffCommand(Command):
    """Call staff: kiosk id is added by the runner; `step` and `reason`, no personal data.

    The flows leave `call_id` empty; the controller gives each call its id before the runner sends it.
    """

    step: str
    reason: str
    call_id: str = ""


@dataclass(frozen=True)
class CancelStaffCallCommand(Command):
    """The resident withdrew the call `call_id` (made at `step` for `reason`)."""

    call_id: str
    step: str
    reason: str


@dataclass(frozen=True)
class ReportIncident(Command):
    """Open an incident only a person can close (R-12), e.g. `reprint_after_error`."""

    code: str
    session_ref: str


@dataclass(frozen=True)
class StartAlarm(Command):
    """Card left behind: sound and screen alarm until the card is removed (R-13)."""


@dataclass(frozen=True)
class StopAlarm(Command):
    """The card was taken."""


@dataclass(frozen=True)
class PlayCue(Command):
    """An audio cue, e.g. `take_certificate`, `take_card`."""

    cue: str


@dataclass(frozen=True)
class EmitStatistic(Command):
    """Put one anonymous session record into the agent's outbox."""

    stats: SessionStats
