"""Central check of a JPKI authentication: chain to the configured JPKI auth CAs, the card's
RSASSA-PKCS1-v1_5 SHA-256 signature over the session nonce, validity dates and revocation.

Revocation is pluggable (`RevocationChecker`): `CrlFileChecker` reads a DER/PEM CRL file (the
default; a platform operator's CRL or the emulator's test CRL), and a city that uses a platform
operator's OCSP-style service implements the same one-method interface.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from madoguchi.errors import ConfigError

__all__ = [
    "AuthCheck",
    "AuthVerdict",
    "CrlFileChecker",
    "NoRevocationChecker",
    "RevocationChecker",
    "check_authentication",
    "load_certificates",
    "spki_sha256",
]

_logger = logging.getLogger(__name__)


class AuthVerdict(enum.StrEnum):
    """Outcome of the check; only OK lets the session continue."""

    OK = "ok"
    MALFORMED = "malformed"  # not a DER certificate
    UNTRUSTED = "untrusted"  # not issued by a configured JPKI auth CA, or wrong key type/usage
    BAD_SIGNATURE = "bad_signature"  # the signature is not over this session's nonce
    EXPIRED = "expired"  # outside notBefore..notAfter
    REVOKED = "revoked"


@dataclass(frozen=True)
class AuthCheck:
    """Verdict and, when the certificate parsed, its identifiers (no personal data)."""

    verdict: AuthVerdict
    issuer: str = ""
    serial: int = 0
    spki_sha256: str = ""


class RevocationChecker(Protocol):
    """Answers whether an authentication certificate is revoked."""

    def is_revoked(self, certificate: x509.Certificate, issuer: x509.Certificate, at: datetime) -> bool:
        """True when `certificate` (issued by `issuer`) is revoked at `at`."""
        ...


class NoRevocationChecker:
    """For demos only: nothing is ever revoked."""

    def is_revoked(self, certificate: x509.Certificate, issuer: x509.Certificate, at: datetime) -> bool:
        """Always False."""
        return False


class CrlFileChecker:
    """Revocation from a CRL file (DER or PEM), re-read when the file changes; the CRL must be signed by the CA."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._mtime = -1.0
        self._crl: x509.CertificateRevocationList | None = None

    def _load(self) -> x509.CertificateRevocationList:
        with self._lock:
            try:
                mtime = self.path.stat().st_mtime
            except OSError as exc:
                raise ConfigError(
                    f"cannot read the JPKI CRL {self.path}: {exc.strerror}", "check the crl_file setting"
                ) from exc
            if self._crl is None or mtime != self._mtime:
                data = self.path.read_bytes()
                loader = (
                    x509.load_pem_x509_crl if data.lstrip().startswith(b"-----") else x509.load_der_x509_crl
                )
                self._crl, self._mtime = loader(data), mtime
            return self._crl

    def is_revoked(self, certificate: x509.Certificate, issuer: x509.Certificate, at: datetime) -> bool:
        """Revoked if listed; a CRL not signed by `issuer` or past nextUpdate counts as revoked (fail closed)."""
        crl = self._load()
        if crl.issuer != issuer.subject:
            return False  # this CRL is for another CA generation
        public = issuer.public_key()
        if not isinstance(public, rsa.RSAPublicKey) or not crl.is_signature_valid(public):
            _logger.error("the CRL %s is not signed by its CA: refusing every certificate", self.path)
            return True
        next_update = crl.next_update_utc
        if next_update is not None and at > next_update:
            _logger.error("the CRL %s is out of date (nextUpdate passed): refusing", self.path)
            return True
        return crl.get_revoked_certificate_by_serial_number(certificate.serial_number) is not None


def load_certificates(paths: Sequence[Path]) -> tuple[x509.Certificate, ...]:
    """Read PEM or DER CA certificates (a PEM file may hold several)."""
    found: list[x509.Certificate] = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(
                f"cannot read {path}: {exc.strerror}", "check the jpki_ca_files setting"
            ) from exc
        if data.lstrip().startswith(b"-----"):
            found.extend(x509.load_pem_x509_certificates(data))
        else:
            found.append(x509.load_der_x509_certificate(data))
    return tuple(found)


def spki_sha256(cert: x509.Certificate) -> str:
    """SHA-256 (hex) of the certificate's SubjectPublicKeyInfo."""
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(spki).hexdigest()


def _issuer_of(cert: x509.Certificate, cas: Sequence[x509.Certificate]) -> x509.Certificate | None:
    for ca in cas:
        try:
            cert.verify_directly_issued_by(ca)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return ca
    return None


def check_authentication(
    certificate_der: bytes,
    signature: bytes,
    nonce: bytes,
    trusted_cas: Sequence[x509.Certificate],
    revocation: RevocationChecker,
    at: datetime,
) -> AuthCheck:
    """Check chain, key usage, the signature over SHA-256(`nonce`), dates and revocation, in that order."""
    try:
        cert = x509.load_der_x509_certificate(certificate_der)
    except ValueError:
        return AuthCheck(AuthVerdict.MALFORMED)
    issuer, serial = cert.issuer.rfc4514_string(), cert.serial_number
    ca = _issuer_of(cert, trusted_cas)
    key = cert.public_key()
    if ca is None or not isinstance(key, rsa.RSAPublicKey):
        return AuthCheck(AuthVerdict.UNTRUSTED, issuer, serial)
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return AuthCheck(AuthVerdict.UNTRUSTED, issuer, serial)
    if not usage.digital_signature:
        return AuthCheck(AuthVerdict.UNTRUSTED, issuer, serial)
    try:
        key.verify(signature, nonce, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return AuthCheck(AuthVerdict.BAD_SIGNATURE, issuer, serial)
    spki = spki_sha256(cert)
    if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
        return AuthCheck(AuthVerdict.EXPIRED, issuer, serial, spki)
    if revocation.is_revoked(cert, ca, at):
        return AuthCheck(AuthVerdict.REVOKED, issuer, serial, spki)
    return AuthCheck(AuthVerdict.OK, issuer, serial, spki)
