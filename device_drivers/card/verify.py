"""Offline checks of a JPKI authentication on the kiosk: certificate dates, issuer chained to the
pinned JPKI auth CAs (never the card's own CA EF), key usage, and the card's signature over
SHA-256(challenge). Revocation is the backend's job (CRL/OCSP are not available to kiosks).

The result identifies the certificate (issuer, serial, SPKI hash) for the backend; the auth
certificate itself holds no personal data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from device_drivers.card.errors import (
    CardMalformedResponse,
    CertificateExpired,
    CertificateNotTrusted,
    SignatureInvalid,
)
from device_drivers.card.jpki import AuthResult

__all__ = ["VerifiedAuth", "verify_authentication"]

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VerifiedAuth:
    """A verified authentication: which certificate, for the backend to map to a resident."""

    issuer: str
    serial: int
    spki_sha256: str
    not_after: dt.datetime


def _issued_by(cert: x509.Certificate, cas: Sequence[x509.Certificate]) -> x509.Certificate | None:
    for ca in cas:
        try:
            cert.verify_directly_issued_by(ca)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return ca
    return None


def verify_authentication(
    result: AuthResult, challenge: bytes, trusted_cas: Sequence[x509.Certificate], now: dt.datetime
) -> VerifiedAuth:
    """Check `result` offline against the pinned auth CAs at time `now` (aware datetime).

    Raises:
        CardMalformedResponse: the certificate is not DER X.509.
        CertificateExpired: outside notBefore..notAfter.
        CertificateNotTrusted: not issued by a pinned CA, not RSA, or no digitalSignature usage.
        SignatureInvalid: the signature does not verify.
    """
    try:
        cert = x509.load_der_x509_certificate(result.certificate_der)
    except ValueError as exc:
        raise CardMalformedResponse("the auth certificate is not DER X.509") from exc
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise CertificateExpired(
            f"auth certificate valid {cert.not_valid_before_utc:%Y-%m-%d}..{cert.not_valid_after_utc:%Y-%m-%d}"
        )
    if _issued_by(cert, trusted_cas) is None:
        raise CertificateNotTrusted("the auth certificate is not issued by a pinned JPKI auth CA")
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound as exc:
        raise CertificateNotTrusted("the auth certificate has no key usage") from exc
    key = cert.public_key()
    if not usage.digital_signature or not isinstance(key, rsa.RSAPublicKey):
        raise CertificateNotTrusted("the certificate is not an RSA signature certificate")
    try:
        key.verify(result.signature, challenge, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise SignatureInvalid("the card's signature does not match the challenge") from exc
    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    _logger.info("JPKI authentication verified offline")
    return VerifiedAuth(
        cert.issuer.rfc4514_string(),
        cert.serial_number,
        hashlib.sha256(spki).hexdigest(),
        cert.not_valid_after_utc,
    )
