"""Slip templates: queue ticket, payment slip, receipt and procedure list, from typed data to a `Document`.

Fixed wording comes from `strings` (translatable); names of procedures, counters and
categories come from the municipal catalog already in the resident's language.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from device_drivers.printer.document import Align, Barcode, Block, Document, Feed, Qr, Rule, Text, TextSize
from device_drivers.printer.strings import tr

__all__ = [
    "GuideList",
    "GuideStep",
    "PaymentMethod",
    "PaymentSlip",
    "QueueTicket",
    "Receipt",
    "ReceiptLine",
    "ReceiptRules",
    "guide_document",
    "mask_id",
    "receipt_document",
    "slip_document",
    "ticket_document",
]


class PaymentMethod(enum.StrEnum):
    """How a receipt was paid."""

    CASH = "cash"
    CREDIT = "credit"
    EMONEY = "emoney"
    QR = "qr"


@dataclass(frozen=True)
class QueueTicket:
    """A numbered queue ticket."""

    number: str
    category: str
    counter: str
    floor: str
    issued_at: datetime
    people_ahead: int
    status_url: str


@dataclass(frozen=True)
class PaymentSlip:
    """A slip taken to the semi-self register: the order code as QR and barcode."""

    order_code: str
    description: str
    amount: int
    pay_at: str
    issued_at: datetime


@dataclass(frozen=True)
class ReceiptLine:
    """One item of a receipt."""

    name: str
    quantity: int
    unit_price: int


@dataclass(frozen=True)
class ReceiptRules:
    """The municipality's 領収書 rules from the catalog."""

    issuer: str
    addressee: str = ""  # empty: 上様 (to the bearer)
    stamp_exempt_note: bool = True
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, repr=False)
class Receipt:
    """A receipt; `payment_id` (card or e-money number) is masked when printed and never shown in repr."""

    receipt_no: str
    items: tuple[ReceiptLine, ...]
    method: PaymentMethod
    issued_at: datetime
    rules: ReceiptRules
    approval_number: str = ""
    payment_id: str = ""

    def __repr__(self) -> str:
        return f"Receipt(receipt_no={self.receipt_no!r}, items={len(self.items)})"

    @property
    def total(self) -> int:
        """Sum of all lines."""
        return sum(line.quantity * line.unit_price for line in self.items)


@dataclass(frozen=True)
class GuideStep:
    """One procedure on the list (案内リスト)."""

    name: str
    counter: str
    floor: str
    bring: tuple[str, ...] = ()


@dataclass(frozen=True)
class GuideList:
    """The procedures a resident has to do, in order."""

    steps: tuple[GuideStep, ...]
    issued_at: datetime


def mask_id(value: str) -> str:
    """Keep only the last 4 characters of a card or e-money id visible."""
    digits = value.replace(" ", "").replace("-", "")
    return "*" * max(0, len(digits) - 4) + digits[-4:]


def _yen(value: int, lang: str) -> str:
    return tr("yen", lang, value=f"{value:,}")


def _time(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def ticket_document(ticket: QueueTicket, lang: str = "ja") -> Document:
    """Queue ticket: big number, category, counter and floor, time, people ahead, QR to the status page."""
    blocks: tuple[Block, ...] = (
        Text(ticket.category, TextSize.LARGE, Align.CENTER, bold=True),
        Text(tr("ticket.title", lang), TextSize.NORMAL, Align.CENTER),
        Text(ticket.number, TextSize.HUGE, Align.CENTER, bold=True),
        Text(
            tr("ticket.counter", lang, counter=ticket.counter, floor=ticket.floor),
            TextSize.NORMAL,
            Align.CENTER,
        ),
        Text(tr("ticket.ahead", lang, count=ticket.people_ahead), TextSize.NORMAL, Align.CENTER),
        Rule(dashed=True),
        Qr(ticket.status_url),
        Feed(8),
        Text(tr("ticket.scan", lang), TextSize.SMALL, Align.CENTER),
        Text(tr("ticket.issued", lang, time=_time(ticket.issued_at)), TextSize.SMALL, Align.CENTER),
    )
    return Document("ticket", blocks)


def slip_document(slip: PaymentSlip, lang: str = "ja") -> Document:
    """Payment slip: description, amount, where to pay, order code as QR and barcode."""
    blocks: tuple[Block, ...] = (
        Text(tr("slip.title", lang), TextSize.LARGE, Align.CENTER, bold=True),
        Rule(),
        Text(slip.description),
        Text(tr("slip.amount", lang, amount=_yen(slip.amount, lang)), TextSize.LARGE, Align.RIGHT, bold=True),
        Text(tr("slip.pay_at", lang, place=slip.pay_at)),
        Feed(16),
        Qr(slip.order_code),
        Feed(16),
        Barcode(slip.order_code),
        Feed(8),
        Text(tr("slip.code", lang, code=slip.order_code), TextSize.SMALL, Align.CENTER),
        Text(_time(slip.issued_at), TextSize.SMALL, Align.CENTER),
    )
    return Document("slip", blocks)


def receipt_document(receipt: Receipt, lang: str = "ja") -> Document:
    """Receipt (領収書): items, total, method, approval number, masked card id, the catalog's rules."""
    rules = receipt.rules
    blocks: list[Block] = [
        Text(tr("receipt.title", lang), TextSize.LARGE, Align.CENTER, bold=True),
        Text(tr("receipt.number", lang, number=receipt.receipt_no), TextSize.SMALL, Align.RIGHT),
        Text(_time(receipt.issued_at), TextSize.SMALL, Align.RIGHT),
        Text(
            tr("receipt.addressee", lang, name=rules.addressee)
            if rules.addressee
            else tr("receipt.bearer", lang)
        ),
        Rule(),
    ]
    for line in receipt.items:
        blocks.append(Text(f"{line.name} ×{line.quantity}"))
        blocks.append(Text(_yen(line.quantity * line.unit_price, lang), align=Align.RIGHT))
    blocks += [
        Rule(),
        Text(
            tr("receipt.total", lang, amount=_yen(receipt.total, lang)),
            TextSize.LARGE,
            Align.RIGHT,
            bold=True,
        ),
        Text(tr("receipt.received", lang), TextSize.SMALL),
        Text(tr("receipt.method", lang, method=tr(f"method.{receipt.method.value}", lang))),
    ]
    if receipt.approval_number:
        blocks.append(Text(tr("receipt.approval", lang, number=receipt.approval_number)))
    if receipt.payment_id:
        blocks.append(Text(tr("receipt.card", lang, masked=mask_id(receipt.payment_id))))
    if rules.stamp_exempt_note:
        blocks.append(Text(tr("receipt.stamp_exempt", lang), TextSize.SMALL))
    blocks += [Text(note, TextSize.SMALL) for note in rules.notes]
    blocks += [Rule(), Text(rules.issuer, align=Align.CENTER, bold=True)]
    return Document("receipt", tuple(blocks))


def guide_document(guide: GuideList, lang: str = "ja") -> Document:
    """Procedure list (案内リスト): each step with its counter, floor and what to bring."""
    blocks: list[Block] = [Text(tr("guide.title", lang), TextSize.LARGE, Align.CENTER, bold=True), Rule()]
    for n, step in enumerate(guide.steps, start=1):
        blocks.append(Text(tr("guide.step", lang, n=n, name=step.name), bold=True))
        blocks.append(Text(tr("guide.where", lang, floor=step.floor, counter=step.counter)))
        if step.bring:
            blocks.append(Text(tr("guide.bring", lang, items=", ".join(step.bring)), TextSize.SMALL))
        blocks.append(Feed(12))
    blocks += [Rule(dashed=True), Text(tr("guide.issued", lang, time=_time(guide.issued_at)), TextSize.SMALL)]
    return Document("guide", tuple(blocks))
