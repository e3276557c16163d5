"""Signed 未交付 (not issued) slips (R-15): after a paid certificate failed to print, the kiosk prints a
receipt-printer slip whose QR code carries this signed text, so the resident can get the certificate
again without paying — at the kiosk within the reprint window, or at the counter where staff check the
slip offline (`kiosk-central issuance verify --qr TEXT`).

The slip names the document serial, device, certificate type, copies, payment reference and the time of
the failure — no personal data. It is signed with the issuance key under its own context, so a slip
can never pass for a certificate QR code (and the other way round).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from madoguchi.certificates.qrsign import QrSignatureError, sign_fields, verify_fields

__all__ = ["PREFIX", "UnissuedSlip", "iso_utc", "sign_unissued", "verify_unissued"]

_logger = logging.getLogger(__name__)

PREFIX = "MDGU1"
_CONTEXT = b"madoguchi-unissued-v1\n"
_FIELDS = 7
_WHAT = "未交付 slip"


@dataclass(frozen=True)
class UnissuedSlip:
    """What a 未交付 slip asserts: this paid document was not handed over and may be issued again free."""

    serial: str
    device_id: str
    type_id: str
    copies: int
    payment_ref: str
    failed_at: str  # ISO 8601, seconds
    reprint_until: str  # ISO 8601, seconds: the kiosk reprints until then; the counter honours it later


def sign_unissued(slip: UnissuedSlip, key: Ed25519PrivateKey) -> str:
    """The QR text for `slip`, signed with the issuance key."""
    values = (
        slip.serial,
        slip.device_id,
        slip.type_id,
        str(slip.copies),
        slip.payment_ref,
        slip.failed_at,
        slip.reprint_until,
    )
    return sign_fields(PREFIX, _CONTEXT, values, key, _WHAT)


def verify_unissued(payload: str, public_key: Ed25519PublicKey) -> UnissuedSlip:
    """Check a scanned 未交付 slip offline; return what it asserts or raise `QrSignatureError`."""
    fields = verify_fields(payload, PREFIX, _CONTEXT, public_key, _WHAT)
    if len(fields) != _FIELDS or not fields[3].isdigit():
        raise QrSignatureError("the 未交付 slip content is malformed")
    serial, device_id, type_id, copies, payment_ref, failed_at, reprint_until = fields
    return UnissuedSlip(serial, device_id, type_id, int(copies), payment_ref, failed_at, reprint_until)


def iso_utc(ms: int) -> str:
    """`ms` since the epoch as ISO 8601 seconds, UTC."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")
