"""A test JPKI CA and per-persona keys and certificates, generated at run time.

Keys are RSA-2048, made with `cryptography` when first needed. With a data directory the CA
and persona keys are kept there (0600 files, outside git) so certificates and the test CA stay
stable between runs; without one everything lives in memory. Certificates are re-issued on
each run (cheap) with dates relative to now and a serial derived from the key, so the test
CRL lists revoked personas reliably.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from device_drivers.card.emulator.personas import PERSONAS, BackendFlag, Persona

__all__ = ["CardMaterial", "JpkiTestCa", "default_data_dir"]

_logger = logging.getLogger(__name__)

_JLIS_OU = "Japan Agency for Local Authority Information Systems"
# otherName OIDs of the signature certificate's subjectAltName (basic four).
OID_NAME = x509.ObjectIdentifier("1.2.392.200149.8.5.5.1")
OID_SEX = x509.ObjectIdentifier("1.2.392.200149.8.5.5.3")
OID_BIRTH = x509.ObjectIdentifier("1.2.392.200149.8.5.5.4")
OID_ADDRESS = x509.ObjectIdentifier("1.2.392.200149.8.5.5.5")
CRL_URL = "http://jpki-test-ca.invalid/auth.crl"


def default_data_dir() -> Path:
    """Where the emulator keeps its test CA: $MADOGUCHI_CARD_EMULATOR_DIR or the user cache."""
    env = os.environ.get("MADOGUCHI_CARD_EMULATOR_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "madoguchi" / "card-emulator"


@dataclass(frozen=True, repr=False)
class CardMaterial:
    """Keys and certificates (DER) of one emulated card."""

    auth_key: rsa.RSAPrivateKey
    auth_cert: bytes
    auth_ca_cert: bytes
    sign_key: rsa.RSAPrivateKey
    sign_cert: bytes | None
    sign_ca_cert: bytes

    def __repr__(self) -> str:
        return "CardMaterial(<keys>)"


def _utf8(text: str) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) < 0x80:
        return b"\x0c" + bytes((len(raw),)) + raw
    return b"\x0c\x82" + len(raw).to_bytes(2, "big") + raw


def _serial(key: rsa.RSAPrivateKey) -> int:
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    return int.from_bytes(hashlib.sha256(der).digest()[:15], "big") | 1


def _ca_name(purpose: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "JPKI"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, purpose),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, _JLIS_OU),
            x509.NameAttribute(NameOID.COMMON_NAME, "Madoguchi TEST CA (card emulator, not J-LIS)"),
        ]
    )


def _jpki_like_extensions(purpose: str) -> list[x509.ExtensionType]:
    """Policy, issuer name and OCSP extensions shaped like real JPKI ones (sizes close to real)."""
    jlis = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "地方公共団体情報システム機構(テスト)"),
            x509.NameAttribute(
                NameOID.ORGANIZATIONAL_UNIT_NAME, f"公的個人認証サービス {purpose} (emulator)"
            ),
        ]
    )
    return [
        x509.CertificatePolicies(
            [
                x509.PolicyInformation(
                    x509.ObjectIdentifier(
                        "1.2.392.200149.8.5.1.3.30" if "auth" in purpose else "1.2.392.200149.8.5.1.3.1"
                    ),
                    [
                        "http://jpki-test-ca.invalid/cps.html",
                        x509.UserNotice(
                            None, "TEST certificate issued by the Madoguchi card emulator; not valid"
                        ),
                    ],
                )
            ]
        ),
        x509.IssuerAlternativeName([x509.DirectoryName(jlis)]),
        x509.AuthorityInformationAccess(
            [
                x509.AccessDescription(
                    x509.oid.AuthorityInformationAccessOID.OCSP,
                    x509.UniformResourceIdentifier("http://ocsp.jpki-test-ca.invalid/" + purpose.split()[-1]),
                )
            ]
        ),
    ]


class JpkiTestCa:
    """Two test CAs (user authentication, digital signature) and the cards they issue."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self.data_dir = data_dir
        self._lock = threading.Lock()
        self._now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        self._cas: dict[str, tuple[rsa.RSAPrivateKey, x509.Certificate]] = {}
        self._cards: dict[str, CardMaterial] = {}

    def _key(self, name: str) -> rsa.RSAPrivateKey:
        path = self.data_dir / f"{name}.key.pem" if self.data_dir else None
        if path is not None and path.exists():
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if isinstance(loaded, rsa.RSAPrivateKey):
                return loaded
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
            _logger.info("generated test key %s in %s", name, self.data_dir)
        return key

    def _ca(self, purpose: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        if purpose not in self._cas:
            key = self._key(f"ca-{purpose.split()[-1]}")
            name = _ca_name(f"JPKI for {purpose}")
            cert = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(key.public_key())
                .serial_number(_serial(key))
                .not_valid_before(dt.datetime(2023, 1, 1, tzinfo=dt.UTC))
                .not_valid_after(dt.datetime(2033, 7, 15, tzinfo=dt.UTC))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(
                    x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
                )
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256())
            )
            self._cas[purpose] = (key, cert)
        return self._cas[purpose]

    @property
    def auth_ca_certificate(self) -> x509.Certificate:
        """The test user-authentication CA certificate (what a test kiosk pins)."""
        with self._lock:
            return self._ca("user authentication")[1]

    def material(self, persona: Persona) -> CardMaterial:
        """Keys and certificates for `persona` (generated once per CA object)."""
        with self._lock:
            if persona.name not in self._cards:
                self._cards[persona.name] = self._issue(persona)
            return self._cards[persona.name]

    def _leaf(
        self, purpose: str, key: rsa.RSAPrivateKey, persona: Persona, san: list[x509.GeneralName] | None
    ) -> bytes:
        ca_key, ca_cert = self._ca(purpose)
        not_after = self._now + dt.timedelta(days=persona.cert_days_left)
        not_before = min(self._now - dt.timedelta(days=365), not_after - dt.timedelta(days=1800))
        serial = _serial(key)
        builder = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                        x509.NameAttribute(NameOID.COMMON_NAME, f"{serial:030X}"),
                    ]
                )
            )
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(
                x509.KeyUsage(
                    True, purpose == "digital signature", False, False, False, False, False, False, False
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
            .add_extension(
                x509.CRLDistributionPoints(
                    [x509.DistributionPoint([x509.UniformResourceIdentifier(CRL_URL)], None, None, None)]
                ),
                critical=False,
            )
        )
        for extension in _jpki_like_extensions(purpose):
            builder = builder.add_extension(extension, critical=False)
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def _issue(self, persona: Persona) -> CardMaterial:
        auth_key = self._key(f"{persona.name}-auth")
        sign_key = self._key(f"{persona.name}-sign")
        sign_cert = None
        if persona.has_sign_cert:
            san: list[x509.GeneralName] = [
                x509.OtherName(OID_NAME, _utf8(persona.full_name)),
                x509.OtherName(OID_SEX, _utf8(persona.sex_code)),
                x509.OtherName(OID_BIRTH, _utf8("E" + persona.birth_date)),
                x509.OtherName(OID_ADDRESS, _utf8(persona.address)),
            ]
            sign_cert = self._leaf("digital signature", sign_key, persona, san)
        der = serialization.Encoding.DER
        return CardMaterial(
            auth_key=auth_key,
            auth_cert=self._leaf("user authentication", auth_key, persona, None),
            auth_ca_cert=self._ca("user authentication")[1].public_bytes(der),
            sign_key=sign_key,
            sign_cert=sign_cert,
            sign_ca_cert=self._ca("digital signature")[1].public_bytes(der),
        )

    def crl(self) -> bytes:
        """DER CRL of the auth CA listing every persona flagged `revoked`."""
        revoked = [p for p in PERSONAS if BackendFlag.REVOKED in p.flags]
        serials = [_serial(self.material(p).auth_key) for p in revoked]
        with self._lock:
            ca_key, ca_cert = self._ca("user authentication")
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(ca_cert.subject)
            .last_update(self._now - dt.timedelta(hours=1))
            .next_update(self._now + dt.timedelta(days=1))
        )
        for serial in serials:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(self._now - dt.timedelta(days=2))
                .build()
            )
        return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
