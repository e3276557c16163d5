"""Tamper-evident QR code for certificates: an opaque id and an Ed25519 signature, verifiable offline.

Payload (ASCII, fits a small QR): ``MDG1.<body>.<sig>`` where body = base64url of
``kind|serial|issued_at(ISO, seconds)|opaque_id`` and sig = base64url Ed25519 signature over
``madoguchi-cert-v1\\n`` + body bytes. No personal data: a verifier checks with the city's
public key that serial, issue time and kind printed on the paper are the ones the city signed,
and may look the opaque id up on the municipal verification service.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from madoguchi.certificates.errors import QrSignatureError

__all__ = [
    "QrClaims",
    "QrSignatureError",
    "new_opaque_id",
    "sign_claims",
    "sign_fields",
    "verify_fields",
    "verify_qr",
]

PREFIX = "MDG1"
_CONTEXT = b"madoguchi-cert-v1\n"
_WHAT = "certificate QR code"


@dataclass(frozen=True)
class QrClaims:
    """What the QR asserts (no personal data)."""

    kind: str
    serial: str
    issued_at: str  # ISO 8601, seconds
    opaque_id: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_opaque_id() -> str:
    """A random, unguessable id (16 bytes, base64url)."""
    return _b64(secrets.token_bytes(16))


def claims_for(kind: str, serial: str, issued_at: datetime, opaque_id: str) -> QrClaims:
    """Claims for a certificate issued at `issued_at`."""
    return QrClaims(kind, serial, issued_at.isoformat(timespec="seconds"), opaque_id)


def sign_fields(
    prefix: str, context: bytes, fields: tuple[str, ...], key: Ed25519PrivateKey, what: str
) -> str:
    """`prefix.b64(body).b64(signature)` of `|`-joined `fields`, signed over `context` + body.

    The format of every signed Madoguchi code (certificate QR, 未交付 slip); `what` names it in errors.
    """
    if any("|" in value for value in fields):
        raise ValueError(f"{what} fields must not contain '|'")
    body = "|".join(fields).encode("utf-8")
    return f"{prefix}.{_b64(body)}.{_b64(key.sign(context + body))}"


def verify_fields(payload: str, prefix: str, context: bytes, key: Ed25519PublicKey, what: str) -> list[str]:
    """The fields of a code made by `sign_fields`, once its signature verifies; else `QrSignatureError`."""
    parts = payload.strip().split(".")
    if len(parts) != 3 or parts[0] != prefix:
        raise QrSignatureError(f"not a Madoguchi {what}")
    try:
        body, signature = _unb64(parts[1]), _unb64(parts[2])
    except ValueError as exc:
        raise QrSignatureError(f"the {what} is damaged") from exc
    try:
        key.verify(signature, context + body)
    except InvalidSignature as exc:
        raise QrSignatureError(f"the {what} signature does not verify with this city's key") from exc
    return body.decode("utf-8").split("|")


def sign_claims(claims: QrClaims, key: Ed25519PrivateKey) -> str:
    """The QR payload for `claims`, signed with the city's key."""
    fields = (claims.kind, claims.serial, claims.issued_at, claims.opaque_id)
    return sign_fields(PREFIX, _CONTEXT, fields, key, _WHAT)


def verify_qr(payload: str, public_key: Ed25519PublicKey) -> QrClaims:
    """Check a scanned QR payload offline; return its claims or raise `QrSignatureError`."""
    fields = verify_fields(payload, PREFIX, _CONTEXT, public_key, _WHAT)
    if len(fields) != 4:
        raise QrSignatureError("certificate QR content is malformed")
    return QrClaims(*fields)
