"""The certificate QR code, format 2: kind, serial, issue time and the digest of the printed content.

Payload (ASCII): ``MDG2.<body>.<sig>``; body = base64url of ``kind|serial|issued_at|content_digest``
(issue time ISO 8601 with offset, seconds; digest from `printed.content_digest`), sig = base64url
Ed25519 signature of the city's issuance key over ``madoguchi-cert-v2\\n`` + body. About 200
characters: a version-9 QR code at error correction M, printed 28 mm wide (0.5 mm modules).

Format 1 (``MDG1``, before content binding) signed kind, serial, issue time and a random id only; it is
still read, so a verifier gets a clear answer for certificates printed before format 2.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from madoguchi.certificates.qrsign import PREFIX as V1_PREFIX
from madoguchi.certificates.qrsign import QrSignatureError, sign_fields, verify_fields, verify_qr

__all__ = ["PREFIX", "PREFIXES", "CertClaims", "QrSignatureError", "read_cert_qr", "sign_cert_qr"]

_logger = logging.getLogger(__name__)

PREFIX = "MDG2"
PREFIXES = (PREFIX, V1_PREFIX)
_CONTEXT = b"madoguchi-cert-v2\n"
_WHAT = "certificate QR code"


@dataclass(frozen=True)
class CertClaims:
    """What a certificate QR code asserts (no personal data).

    `content_digest` is None for format 1, which did not bind the printed content.
    """

    version: int
    kind: str
    serial: str
    issued_at: str  # ISO 8601, seconds
    content_digest: str | None


def sign_cert_qr(claims: CertClaims, key: Ed25519PrivateKey) -> str:
    """The format-2 QR payload for `claims`, signed with the city's issuance key."""
    if claims.content_digest is None:
        raise ValueError("a format-2 QR code needs the content digest")
    fields = (claims.kind, claims.serial, claims.issued_at, claims.content_digest)
    return sign_fields(PREFIX, _CONTEXT, fields, key, _WHAT)


def read_cert_qr(payload: str, key: Ed25519PublicKey) -> CertClaims:
    """The claims of a scanned certificate QR code (format 2 or 1) once its signature verifies.

    Raises:
        QrSignatureError: not a certificate QR code, damaged, or not signed with `key`.
    """
    if payload.strip().startswith(V1_PREFIX + "."):
        old = verify_qr(payload, key)
        return CertClaims(1, old.kind, old.serial, old.issued_at, None)
    fields = verify_fields(payload, PREFIX, _CONTEXT, key, _WHAT)
    if len(fields) != 4 or not all(fields):
        raise QrSignatureError("certificate QR content is malformed")
    kind, serial, issued_at, digest = fields
    return CertClaims(2, kind, serial, issued_at, digest)
