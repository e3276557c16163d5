"""Signed 未交付 (not issued) slips (R-15): after a paid certificate failed to print, the kiosk prints a
receipt-printer slip whose QR code carries this signed text, so the resident can get the certificate
again without paying — at the kiosk within the reprint window, or at the counter where staff check the
slip offline (`kiosk-central issuance verify --qr TEXT`).

The slip names the document serial, device, certificate type, copies, payment reference and the time of
the failure — no personal data. It is signed with the issuance key under its own context, so a slip
can never pass for a certificate QR code (and the other way round).
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from device_drivers.printer.a4.qrsign import QrSignatureError

__all__ = ["PREFIX", "UnissuedSlip", "iso_utc", "sign_unissued", "verify_unissued"]

_logger = logging.getLogger(__name__)

PREFIX = "MDGU1"
_CONTEXT = b"madoguchi-unissued-v1\n"
_FIELDS = 7


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


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


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
    if any("|" in v for v in values):
        raise ValueError("未交付 slip fields must not contain '|'")
    body = "|".join(values).encode("utf-8")
    return f"{PREFIX}.{_b64(body)}.{_b64(key.sign(_CONTEXT + body))}"


def verify_unissued(payload: str, public_key: Ed25519PublicKey) -> UnissuedSlip:
    """Check a scanned 未交付 slip offline; return what it asserts or raise `QrSignatureError`."""
    parts = payload.strip().split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise QrSignatureError("not a Madoguchi 未交付 slip")
    try:
        body, signature = _unb64(parts[1]), _unb64(parts[2])
    except ValueError as exc:
        raise QrSignatureError("the 未交付 slip code is damaged") from exc
    try:
        public_key.verify(signature, _CONTEXT + body)
    except InvalidSignature as exc:
        raise QrSignatureError("the 未交付 slip signature does not verify with this city's key") from exc
    fields = body.decode("utf-8").split("|")
    if len(fields) != _FIELDS or not fields[3].isdigit():
        raise QrSignatureError("the 未交付 slip content is malformed")
    serial, device_id, type_id, copies, payment_ref, failed_at, reprint_until = fields
    return UnissuedSlip(serial, device_id, type_id, int(copies), payment_ref, failed_at, reprint_until)


def iso_utc(ms: int) -> str:
    """`ms` since the epoch as ISO 8601 seconds, UTC."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")
