"""Sample slips in every supported language, for `kiosk print-test`, golden images and benchmarks.

Fictional data only.
"""

from __future__ import annotations

from datetime import datetime

from device_drivers.printer.document import Document
from device_drivers.printer.templates import (
    GuideList,
    GuideStep,
    PaymentMethod,
    PaymentSlip,
    QueueTicket,
    Receipt,
    ReceiptLine,
    ReceiptRules,
    guide_document,
    receipt_document,
    slip_document,
    ticket_document,
)

__all__ = ["SAMPLE_KINDS", "sample_document"]

SAMPLE_KINDS = ("ticket", "slip", "receipt", "guide")
_AT = datetime(2026, 4, 1, 9, 30)
_CATALOG = {
    "ja": {
        "category": "住民票・印鑑証明",
        "counter": "3番窓口",
        "floor": "1階",
        "place": "1階 会計窓口",
        "juminhyo": "住民票の写し",
        "inkan": "印鑑登録証明書",
        "moving": "転入届",
        "nhi": "国民健康保険の加入",
        "bring": ("本人確認書類", "印鑑"),
        "issuer": "見本市役所 市民課",
        "note": "再発行はできません",
    },
    "en": {
        "category": "Residence records",
        "counter": "Counter 3",
        "floor": "1F",
        "place": "the cashier, 1F",
        "juminhyo": "Certificate of residence",
        "inkan": "Seal registration certificate",
        "moving": "Moving-in notification",
        "nhi": "National Health Insurance",
        "bring": ("Photo ID", "Residence card"),
        "issuer": "Mihon City Hall, Citizens Division",
        "note": "Receipts are not reissued",
    },
}


def sample_document(kind: str, lang: str = "ja") -> Document:
    """A sample slip of `kind` (ticket, slip, receipt, guide) in `lang`."""
    c = _CATALOG.get(lang, _CATALOG["ja"])
    if kind == "ticket":
        ticket = QueueTicket("A-123", str(c["category"]), str(c["counter"]), str(c["floor"]), _AT, 4,
                             "https://q.madoguchi.example/t/7Q2XK9")  # fmt: skip
        return ticket_document(ticket, lang)
    if kind == "slip":
        slip = PaymentSlip("P2604010042", f"{c['juminhyo']} ×2", 600, str(c["place"]), _AT)
        return slip_document(slip, lang)
    if kind == "receipt":
        receipt = Receipt(
            receipt_no="R-000042",
            items=(ReceiptLine(str(c["juminhyo"]), 2, 300), ReceiptLine(str(c["inkan"]), 1, 300)),
            method=PaymentMethod.CREDIT,
            issued_at=_AT,
            rules=ReceiptRules(issuer=str(c["issuer"]), notes=(str(c["note"]),)),
            approval_number="123456",
            payment_id="4111 1111 1111 1234",
        )
        return receipt_document(receipt, lang)
    if kind == "guide":
        steps = (
            GuideStep(str(c["moving"]), str(c["counter"]), str(c["floor"]), tuple(c["bring"])),
            GuideStep(
                str(c["nhi"]), "Counter 5" if lang == "en" else "5番窓口", "2F" if lang == "en" else "2階"
            ),
        )
        return guide_document(GuideList(steps, _AT), lang)
    raise ValueError(f"unknown sample {kind!r}; use one of {', '.join(SAMPLE_KINDS)}")
