"""Journal records and app events: what crosses the driver boundary (frozen dataclasses, Enums)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from device_drivers.payment.messages import Method, Phase, ResultCode

__all__ = [
    "DEFINITE_STATES",
    "JournalState",
    "Operation",
    "PaymentEvent",
    "PaymentProgress",
    "PaymentRecord",
    "PaymentStateChanged",
]


class JournalState(enum.StrEnum):
    """Journal states (reference §4), in the order a payment passes them."""

    CREATED = "CREATED"
    SENDING = "SENDING"
    ACCEPTED = "ACCEPTED"
    IN_PROGRESS = "IN_PROGRESS"
    APPROVED = "APPROVED"
    DECLINED = "DECLINED"
    CANCELLED = "CANCELLED"
    TIMEOUT = "TIMEOUT"
    ERROR_NOT_CHARGED = "ERROR_NOT_CHARGED"
    FAILED_NOT_SENT = "FAILED_NOT_SENT"
    UNKNOWN = "UNKNOWN"
    CONFIRMED = "CONFIRMED"
    RECONCILED = "RECONCILED"


# Definite outcomes: the terminal has said (or it is certain) whether money moved.
DEFINITE_STATES = frozenset(
    {
        JournalState.APPROVED,
        JournalState.DECLINED,
        JournalState.CANCELLED,
        JournalState.TIMEOUT,
        JournalState.ERROR_NOT_CHARGED,
        JournalState.FAILED_NOT_SENT,
        JournalState.CONFIRMED,
        JournalState.RECONCILED,
    }
)


class Operation(enum.StrEnum):
    """Financial operation journaled."""

    SALE = "SALE"
    VOID = "VOID"


@dataclass(frozen=True)
class PaymentRecord:
    """One journaled payment (SAL) or void (VOD) and its current state.

    `result` is the financial outcome (None until known); `state` is the last journal state.
    """

    ref: str
    kiosk_id: str
    register_no: str | None
    order_id: str
    op: Operation
    amount: int
    currency: str
    method: Method
    state: JournalState
    result: ResultCode | None = None
    orig_ref: str | None = None
    orig_txn: str | None = None
    res_amount: int | None = None
    res_method: str | None = None
    brand: str | None = None
    masked_id: str | None = None
    auth_code: str | None = None
    txn_id: str | None = None
    term_time: str | None = None
    resp_code: str | None = None
    bal_before: int | None = None
    bal_after: int | None = None
    tries: int = 0
    naks: int = 0
    inquiries: int = 0
    last_error: str | None = None
    terminal_id: str | None = None
    firmware: str | None = None
    reconciled_by: str | None = None
    reconciled_how: str | None = None
    created_at: str = ""
    updated_at: str = ""

    @property
    def paid(self) -> bool:
        """True only when an approval is journaled (show "paid", print, issue)."""
        return self.result is ResultCode.APPROVED and self.state in (
            JournalState.APPROVED,
            JournalState.CONFIRMED,
            JournalState.RECONCILED,
        )

    @property
    def needs_staff(self) -> bool:
        """True when the outcome is unknown: the resident sees "contact staff", never "failed"."""
        return self.state is JournalState.UNKNOWN

    @property
    def definite(self) -> bool:
        """True when it is certain whether money moved."""
        return self.state in DEFINITE_STATES


@dataclass(frozen=True)
class PaymentProgress:
    """The terminal reports a phase (show "touch your card", "enter PIN", ...)."""

    ref: str
    order_id: str
    phase: Phase


@dataclass(frozen=True)
class PaymentStateChanged:
    """A journal state change of the running payment (already committed when delivered)."""

    ref: str
    order_id: str
    state: JournalState


PaymentEvent = PaymentProgress | PaymentStateChanged
