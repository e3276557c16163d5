"""Semi-self register payment orders (R-19, R-20): order codes, slip payloads and the RPC params/results.

Counter staff register an order at the central; the resident scans its slip (or types its code)
at a kiosk, which asks the central over RPC:

- `payment.lookup` `{order_code}` → `{order}`: items, total and accepted methods of a WAITING order.
- `payment.mark_paid` `{order_code, outcome, method, amount_yen, payment_ref}` → `{order}`: the
  terminal's result. `outcome` is `paid`, or `unknown` when the terminal could not say (R-20: the
  order goes UNKNOWN and staff resolve it; the kiosk never retries the payment by itself).

An order code is `P` + the Japan date (YYMMDD) + a 4-digit sequence + a Luhn check digit, e.g.
`P2604010042` + `7` → `P26040100427`. The slip's barcode holds the code; its QR holds
`MDG1:<code>:<amount_yen>`, so a scanner reading either finds the code (`parse_slip`).
"""

from __future__ import annotations

import enum
import re

from pydantic import Field

from madoguchi.contracts.base import ContractError, Message

__all__ = [
    "ORDER_CODE_PATTERN",
    "LookupParams",
    "MarkPaidParams",
    "OrderItemView",
    "OrderResult",
    "OrderStatus",
    "OrderView",
    "PaidOutcome",
    "luhn_digit",
    "make_order_code",
    "parse_slip",
    "slip_qr_payload",
    "valid_order_code",
]

ORDER_CODE_PATTERN = r"^P\d{11}$"
_CODE = re.compile(ORDER_CODE_PATTERN)
_QR_PREFIX = "MDG1:"


class OrderStatus(enum.StrEnum):
    """Where a payment order is (R-20)."""

    WAITING = "waiting"  # registered by staff; not paid yet
    PAID = "paid"
    UNKNOWN = "unknown"  # the terminal could not say; staff resolve it with a note
    REFUNDED = "refunded"  # only where the catalog's refund policy allows refunds
    CANCELLED = "cancelled"  # staff withdrew an unpaid order


class PaidOutcome(enum.StrEnum):
    """What a kiosk reports after running the terminal for an order."""

    PAID = "paid"
    UNKNOWN = "unknown"


def luhn_digit(digits: str) -> str:
    """The Luhn check digit of a digit string."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def make_order_code(yymmdd: str, sequence: int) -> str:
    """The order code for the `sequence`-th order of a Japan day (1..9999)."""
    if not 1 <= sequence <= 9999:
        raise ValueError(f"order sequence {sequence} is outside 1..9999")
    body = f"{yymmdd}{sequence:04d}"
    return f"P{body}{luhn_digit(body)}"


def valid_order_code(code: str) -> bool:
    """True when `code` has the order-code form and its check digit matches (catches typing errors)."""
    return bool(_CODE.match(code)) and luhn_digit(code[1:-1]) == code[-1]


def slip_qr_payload(code: str, amount_yen: int) -> str:
    """What the slip's QR code holds: `MDG1:<code>:<amount_yen>`."""
    return f"{_QR_PREFIX}{code}:{amount_yen}"


def parse_slip(text: str) -> str:
    """The order code from a scanned barcode, QR payload or typed code.

    Raises:
        ContractError: not an order code, or its check digit is wrong.
    """
    raw = text.strip().upper()
    if raw.startswith(_QR_PREFIX):
        raw = raw[len(_QR_PREFIX) :].split(":", 1)[0]
    if not valid_order_code(raw):
        raise ContractError(f"{text.strip()!r} is not an order code (P + 11 digits with a valid check digit)")
    return raw


class LookupParams(Message):
    """Params of `payment.lookup`."""

    order_code: str = Field(pattern=ORDER_CODE_PATTERN)


class MarkPaidParams(Message):
    """Params of `payment.mark_paid`."""

    order_code: str = Field(pattern=ORDER_CODE_PATTERN)
    outcome: PaidOutcome = PaidOutcome.PAID
    method: str = Field(min_length=1, max_length=64, description="catalog payment method id")
    amount_yen: int = Field(ge=0)
    payment_ref: str = Field(default="", max_length=64, description="terminal slip number; no card data")


class OrderItemView(Message):
    """One line of an order."""

    item_id: str
    name: str
    quantity: int = Field(ge=1)
    unit_price_yen: int = Field(ge=0)


class OrderView(Message):
    """An order as a kiosk sees it (no staff names, no notes)."""

    order_code: str
    status: OrderStatus
    items: list[OrderItemView]
    total_yen: int = Field(ge=0)
    methods: list[str] = Field(description="catalog payment method ids accepted for every item")


class OrderResult(Message):
    """Result of both RPC methods."""

    order: OrderView
