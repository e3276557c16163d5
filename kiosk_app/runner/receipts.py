"""Slips the runner prints on the receipt printer: the register's 領収書 and the 未交付 slip (R-15)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from device_drivers.payment.records import PaymentRecord
from device_drivers.printer.document import Align, Document, Feed, Qr, Rule, Text, TextSize
from device_drivers.printer.strings import tr as printed_text
from device_drivers.printer.templates import (
    PaymentMethod,
    Receipt,
    ReceiptLine,
    ReceiptRules,
    receipt_document,
)
from kiosk_app.flows import events as ev
from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.catalog_base import local_time

__all__ = ["order_receipt", "unissued_slip"]

_logger = logging.getLogger(__name__)


def order_receipt(
    catalog: Catalog, order: ev.Order, record: PaymentRecord, method_id: str, lang: str = "ja"
) -> Document:
    """The 領収書 of a paid order: its lines, the method, the approval number and the masked card id."""
    kinds = {m.id: str(m.kind) for m in catalog.payment.methods}
    try:
        method = PaymentMethod(kinds.get(method_id, method_id))
    except ValueError:
        method = PaymentMethod.CREDIT
    lines = tuple(
        ReceiptLine(line.name, line.quantity, line.amount_yen // max(1, line.quantity))
        for line in order.lines
    )
    receipt = Receipt(
        receipt_no=order.order_id,
        items=lines,
        method=method,
        issued_at=local_time(datetime.now(UTC)),
        rules=ReceiptRules(issuer=catalog.municipality.names.text(lang)),
        approval_number=record.auth_code or "",
        payment_id=record.masked_id or "",
    )
    return receipt_document(receipt, lang)


def unissued_slip(
    signed: str | None, payment_ref: str | None, reprint_until_ms: int | None, lang: str = "ja"
) -> Document:
    """The 未交付 slip: what happened, the payment number, and the central's signed slip as a QR code.

    Without a signed slip (the central could not be reached) the slip still names the payment, and staff
    check it against the terminal journal.
    """
    blocks: list[Text | Rule | Feed | Qr] = [
        Text(printed_text("unissued.title", lang), TextSize.LARGE, Align.CENTER, bold=True),
        Rule(),
        Text(printed_text("unissued.body", lang)),
        Feed(),
    ]
    if payment_ref:
        blocks.append(Text(printed_text("unissued.payment", lang, ref=payment_ref), TextSize.SMALL))
    if reprint_until_ms:
        until = local_time(datetime.fromtimestamp(reprint_until_ms / 1000, UTC)).strftime("%Y-%m-%d")
        blocks.append(Text(printed_text("unissued.until", lang, date=until)))
    if signed:
        blocks += [Feed(), Qr(signed)]
    else:
        blocks.append(Text(printed_text("unissued.unsigned", lang)))
    return Document("unissued_slip", tuple(blocks))
