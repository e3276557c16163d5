"""Events a flow receives through its one queue: resident actions and device / central results.

Device drivers never call flows; the runner turns driver results into these frozen values. Events that
carry secrets (a PIN digit) keep them out of `repr`, so logging an event never logs the PIN.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk_app.flows.core import Event, Tick, TimedOut, UserAction
from madoguchi.contracts.issuance import OptionsResult, Refusal

__all__ = [
    "AuthFailed",
    "AuthOk",
    "AuthRefused",
    "Back",
    "CallStaff",
    "Cancel",
    "CancelStaffCall",
    "CardInserted",
    "CardRemoved",
    "CardUnreadable",
    "CentralUnreachable",
    "ChooseLanguage",
    "ChooseMethod",
    "ChooseOption",
    "ChooseType",
    "Confirm",
    "Digit",
    "Erase",
    "ForgotPin",
    "MoreTime",
    "OptionsReceived",
    "Order",
    "OrderFound",
    "OrderLine",
    "OrderNotFound",
    "PaymentApproved",
    "PaymentDeclined",
    "PaymentProgress",
    "PaymentUnknown",
    "PinTriesRead",
    "PrintDone",
    "PrintFailed",
    "PrintProgress",
    "PrinterNotReady",
    "PrinterReady",
    "Rate",
    "Reprint",
    "ServiceStatus",
    "SetCopies",
    "SkipRating",
    "SlipScanned",
    "StaffCallAnswered",
    "Start",
    "Tick",
    "TimedOut",
    "TypeCodeInstead",
    "VoidDocument",
]

# --- resident actions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Start(UserAction):
    """The resident picked this service on the home screen."""


@dataclass(frozen=True)
class ChooseLanguage(UserAction):
    """A language was picked (a code of `madoguchi.contracts.languages.LANGUAGES`)."""

    language: str


@dataclass(frozen=True)
class Confirm(UserAction):
    """ "Next" / "OK" / "Yes, that is me" on the current screen."""


@dataclass(frozen=True)
class Back(UserAction):
    """ "Back" (戻る): one step back."""


@dataclass(frozen=True)
class Cancel(UserAction):
    """ "Cancel" (取消): leave the service; wipes the session."""


@dataclass(frozen=True)
class CallStaff(UserAction):
    """ "Call staff" (職員を呼ぶ), available on every screen."""


@dataclass(frozen=True)
class CancelStaffCall(UserAction):
    """ "Cancel the call" on the staff-call banner: the resident no longer needs staff."""


@dataclass(frozen=True)
class StaffCallAnswered(Event):
    """Staff answered a call in the central web: `acknowledged` (they are coming) or, if False, closed."""

    call_id: str
    acknowledged: bool


@dataclass(frozen=True)
class MoreTime(UserAction):
    """ "More time, please" (時間を延長): on every step whose timeout waits for the resident, and on the
    idle prompt."""


@dataclass(frozen=True)
class Digit(UserAction):
    """One key of the on-screen or tactile keypad (PIN or order code); hidden from `repr`."""

    digit: str = field(repr=False)


@dataclass(frozen=True)
class Erase(UserAction):
    """Erase the last digit."""


@dataclass(frozen=True)
class ForgotPin(UserAction):
    """ "PINを忘れた方": the resident does not know the PIN."""


@dataclass(frozen=True)
class ChooseType(UserAction):
    """A certificate type was tapped."""

    type_id: str


@dataclass(frozen=True)
class ChooseOption(UserAction):
    """A choice of a certificate option (e.g. scope = all)."""

    option_id: str
    choice_id: str


@dataclass(frozen=True)
class SetCopies(UserAction):
    """The number of copies."""

    copies: int


@dataclass(frozen=True)
class ChooseMethod(UserAction):
    """A payment method (catalog `payment.methods` id)."""

    method_id: str


@dataclass(frozen=True)
class Reprint(UserAction):
    """After a print failure: try printing again (free)."""


@dataclass(frozen=True)
class VoidDocument(UserAction):
    """After a print failure: give up; a 未交付 slip allows a free re-issue at the counter."""


@dataclass(frozen=True)
class Rate(UserAction):
    """Satisfaction rating 1–5."""

    stars: int


@dataclass(frozen=True)
class SkipRating(UserAction):
    """No rating, back to home."""


@dataclass(frozen=True)
class TypeCodeInstead(UserAction):
    """Semi-self register: type the order code on screen instead of scanning the slip."""


@dataclass(frozen=True)
class SlipScanned(Event):
    """The scanner read a payment slip's code."""

    code: str


@dataclass(frozen=True)
class OrderLine:
    """One item of a payment order: a catalog fee item, its name in the resident's language, amount."""

    item_id: str
    name: str
    quantity: int
    amount_yen: int


@dataclass(frozen=True)
class Order:
    """A payment order registered by staff, fetched from the central by its code."""

    order_id: str
    lines: tuple[OrderLine, ...]
    total_yen: int
    methods: tuple[str, ...]


@dataclass(frozen=True)
class OrderFound(Event):
    """The central found the order and it is unpaid."""

    order: Order


@dataclass(frozen=True)
class OrderNotFound(Event):
    """No payable order with that code; `reason` is not_found, already_paid or expired."""

    reason: str = "not_found"


# --- card ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardInserted(Event):
    """A card is in the reader."""


@dataclass(frozen=True)
class CardRemoved(Event):
    """The card left the reader."""


@dataclass(frozen=True)
class PinTriesRead(Event):
    """PIN tries left on the card's 利用者証明用 PIN (0 = locked)."""

    tries_left: int


@dataclass(frozen=True)
class CardUnreadable(Event):
    """Not a My Number card, or the card did not answer; `problem` is a message key suffix."""

    problem: str


@dataclass(frozen=True)
class AuthOk(Event):
    """PIN verified and the central authenticated the card; `name` is the holder's name (personal data)."""

    name: str = field(repr=False)


@dataclass(frozen=True)
class AuthFailed(Event):
    """Wrong PIN; `tries_left` as the card reports after the failure."""

    tries_left: int


@dataclass(frozen=True)
class AuthRefused(Event):
    """The central refused the card (certificate expired or revoked …) with reason and where to go."""

    refusal: Refusal


# --- central ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptionsReceived(Event):
    """What this resident may have now, and what is refused with reasons."""

    result: OptionsResult


@dataclass(frozen=True)
class CentralUnreachable(Event):
    """The central did not answer (network down, timeout)."""


@dataclass(frozen=True)
class ServiceStatus(Event):
    """Whether the central is reachable (from the fleet link); issuance cannot start while it is not."""

    central_online: bool


# --- payment and printing --------------------------------------------------------------------------


@dataclass(frozen=True)
class PrinterReady(Event):
    """The printer needed for this session has paper and is ready."""


@dataclass(frozen=True)
class PrinterNotReady(Event):
    """The printer cannot print now; `problem` e.g. out_of_paper, cover_open, offline."""

    problem: str


@dataclass(frozen=True)
class PaymentProgress(Event):
    """Terminal progress phase (WAIT_CARD, READING, PIN, AUTHORIZING, REMOVE_CARD, RETOUCH)."""

    phase: str


@dataclass(frozen=True)
class PaymentApproved(Event):
    """The terminal approved the payment with our reference."""

    ref: str


@dataclass(frozen=True)
class PaymentDeclined(Event):
    """Declined, cancelled or not charged: no money was taken."""

    reason: str = "declined"


@dataclass(frozen=True)
class PaymentUnknown(Event):
    """The outcome is unknown; never retried automatically (R-20)."""


@dataclass(frozen=True)
class PrintProgress(Event):
    """Pages printed so far."""

    done: int
    total: int


@dataclass(frozen=True)
class PrintDone(Event):
    """Everything printed."""


@dataclass(frozen=True)
class PrintFailed(Event):
    """Printing (or fetching the document to print) failed; `problem` names why."""

    problem: str
