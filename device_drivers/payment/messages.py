"""Kiosk Payment Link v1 messages as typed values (frozen dataclasses and Enums).

The codec turns these into bytes and back; the link and transaction layers only see these.
Field order on the wire is the order of the dataclass fields after `ref` (see docs/payment-link.md).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "FINAL_RESULTS",
    "Abort",
    "Confirm",
    "Inquiry",
    "InquiryReply",
    "InquiryStatus",
    "Message",
    "Method",
    "Phase",
    "Progress",
    "Result",
    "ResultCode",
    "Sale",
    "Status",
    "StatusReply",
    "TerminalState",
    "Void",
]


class Method(enum.StrEnum):
    """Payment method asked for or used."""

    CREDIT = "CREDIT"
    EMONEY = "EMONEY"
    QR = "QR"
    ANY = "ANY"


class ResultCode(enum.StrEnum):
    """Final outcome of a SAL or VOD as reported by the terminal."""

    APPROVED = "APPROVED"
    DECLINED = "DECLINED"
    CANCELLED = "CANCELLED"
    ERROR_NOT_CHARGED = "ERROR_NOT_CHARGED"
    TIMEOUT = "TIMEOUT"
    UNKNOWN = "UNKNOWN"


FINAL_RESULTS = frozenset(ResultCode)


class InquiryStatus(enum.StrEnum):
    """INR status: a final result or one of the two non-final answers."""

    APPROVED = "APPROVED"
    DECLINED = "DECLINED"
    CANCELLED = "CANCELLED"
    ERROR_NOT_CHARGED = "ERROR_NOT_CHARGED"
    TIMEOUT = "TIMEOUT"
    UNKNOWN = "UNKNOWN"
    IN_PROGRESS = "IN_PROGRESS"
    NOT_FOUND = "NOT_FOUND"


class TerminalState(enum.StrEnum):
    """STR state."""

    READY = "READY"
    BUSY = "BUSY"
    OFFLINE = "OFFLINE"
    ERROR = "ERROR"


class Phase(enum.StrEnum):
    """PRG phase, shown to the resident."""

    WAIT_CARD = "WAIT_CARD"
    READING = "READING"
    PIN = "PIN"
    AUTHORIZING = "AUTHORIZING"
    REMOVE_CARD = "REMOVE_CARD"
    RETOUCH = "RETOUCH"


@dataclass(frozen=True)
class Status:
    """K→T STS: status request; never creates or changes a transaction."""

    TYPE = "STS"


@dataclass(frozen=True)
class Sale:
    """K→T SAL."""

    ref: str
    amount: int
    currency: str
    method: Method
    TYPE = "SAL"


@dataclass(frozen=True)
class Abort:
    """K→T ABT: a request only; a racing APPROVED stands."""

    ref: str
    TYPE = "ABT"


@dataclass(frozen=True)
class Inquiry:
    """K→T INQ by our own reference."""

    ref: str
    TYPE = "INQ"


@dataclass(frozen=True)
class Void:
    """K→T VOD of a same-day approval, by exact reference."""

    ref: str
    orig_ref: str
    orig_txn: str
    amount: int
    TYPE = "VOD"


@dataclass(frozen=True)
class Confirm:
    """K→T CFM: the result is journaled, stop resending it."""

    ref: str
    TYPE = "CFM"


@dataclass(frozen=True)
class StatusReply:
    """T→K STR."""

    state: TerminalState
    terminal_id: str | None = None
    busy_ref: str | None = None
    TYPE = "STR"


@dataclass(frozen=True)
class Progress:
    """T→K PRG."""

    ref: str
    phase: Phase
    TYPE = "PRG"


@dataclass(frozen=True)
class Result:
    """T→K RES: the final outcome of a SAL or VOD."""

    ref: str
    result: ResultCode
    amount: int | None = None
    method: Method | None = None
    brand: str | None = None
    masked_id: str | None = None
    auth_code: str | None = None
    txn_id: str | None = None
    term_time: str | None = None
    resp_code: str | None = None
    bal_before: int | None = None
    bal_after: int | None = None
    TYPE = "RES"


@dataclass(frozen=True)
class InquiryReply:
    """T→K INR: the stored result for `ref`, or IN_PROGRESS / NOT_FOUND."""

    ref: str
    status: InquiryStatus
    result: Result | None = None
    TYPE = "INR"


Message = Status | Sale | Abort | Inquiry | Void | Confirm | StatusReply | Progress | Result | InquiryReply
