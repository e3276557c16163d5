"""The fleet PKI on disk: offline-capable root, online device-issuing CA, service CA, CRLs.

Layout of the PKI folder (`kiosk-central ca init --dir DIR`)::

    root/root.pem            root certificate: baked into the kiosk image, pinned by devices
    root/root.key            root key: only needed by `ca init`; move it offline (or --root-key-out)
    device-ca/ca.pem|.key    online intermediate that signs device certificates (CN = device id)
    device-ca/chain.pem      device CA + root (Mosquitto `cafile` material)
    device-ca/crl.pem        CRL of the device CA (Mosquitto `crlfile`)
    service-ca/...           intermediate for broker, enrolment server and svc-* certificates
    services/NAME/           cert.pem, chain.pem (cert + service CA), key.pem (0600)
    ledger.db                every certificate issued or revoked
    pki.json                 settings (organisation, device certificate lifetime)
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from central_broker.pki.ledger import CertRecord, Ledger
from central_broker.pki.x509 import (
    ca_certificate,
    check_name,
    common_name,
    leaf_certificate,
    load_certificate,
    load_key,
    new_key,
    pem,
    write_private,
    write_public,
)
from madoguchi.errors import UserError

__all__ = ["DEVICE", "SERVICE", "IssuedCertificate", "Pki", "PkiSettings"]

_logger = logging.getLogger(__name__)

DEVICE = "device-ca"
SERVICE = "service-ca"
CRL_DAYS = 7


@dataclass(frozen=True)
class PkiSettings:
    """Settings kept in `pki.json`."""

    organisation: str = "Madoguchi"
    device_days: int = 30
    service_days: int = 397


@dataclass(frozen=True)
class IssuedCertificate:
    """A signed certificate and the chain above it (intermediate, then root)."""

    cert: x509.Certificate
    chain: tuple[x509.Certificate, ...]

    def chain_pem(self) -> bytes:
        """Leaf + intermediates as one PEM (what a TLS client presents)."""
        return pem(self.cert) + b"".join(pem(c) for c in self.chain[:-1])


class Pki:
    """Operations on a PKI folder; issuing and revoking never touch the root key."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        if not (directory / "pki.json").is_file():
            raise UserError(
                f"{directory} is not a PKI folder (no pki.json)",
                f"run `kiosk-central ca init --dir {directory}` first, or pass the right --dir",
            )
        raw = json.loads((directory / "pki.json").read_text())
        self.settings = PkiSettings(**raw)
        self.ledger = Ledger(directory / "ledger.db")

    @classmethod
    def init(
        cls,
        directory: Path,
        organisation: str = "Madoguchi",
        device_days: int = 30,
        root_key_out: Path | None = None,
        root_days: int = 7300,
        intermediate_days: int = 1825,
    ) -> Pki:
        """Create the root, the device CA and the service CA; refuse to overwrite an existing PKI."""
        if (directory / "pki.json").exists():
            raise UserError(f"{directory} already holds a PKI", "use it, or choose another --dir")
        if not 1 <= device_days <= 397:
            raise UserError(f"device certificate lifetime {device_days} days is out of range", "use 1..397")
        root_key = new_key()
        root = ca_certificate(root_key, f"{organisation} Root CA", organisation, root_days, path_length=1)
        write_public(directory / "root" / "root.pem", pem(root))
        write_private(root_key_out or directory / "root" / "root.key", root_key)
        for folder, title in ((DEVICE, "Device CA"), (SERVICE, "Service CA")):
            key = new_key()
            cert = ca_certificate(
                key, f"{organisation} {title}", organisation, intermediate_days, (root, root_key)
            )
            write_private(directory / folder / "ca.key", key)
            write_public(directory / folder / "ca.pem", pem(cert))
            write_public(directory / folder / "chain.pem", pem(cert) + pem(root))
        settings = PkiSettings(organisation=organisation, device_days=device_days)
        write_public(directory / "pki.json", json.dumps(settings.__dict__, indent=2).encode())
        pki = cls(directory)
        pki.write_crls()
        _logger.info("created PKI in %s", directory)
        return pki

    @property
    def root(self) -> x509.Certificate:
        """The root certificate."""
        return load_certificate(self.dir / "root" / "root.pem")

    def ca(self, authority: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        """Certificate and key of an intermediate (`DEVICE` or `SERVICE`)."""
        return load_certificate(self.dir / authority / "ca.pem"), load_key(self.dir / authority / "ca.key")

    def issue_device(
        self, csr: x509.CertificateSigningRequest, device_id: str, days: int | None = None
    ) -> IssuedCertificate:
        """Sign a device's CSR; the CSR must carry CN = `device_id` and an EC P-256 key."""
        check_name(device_id)
        if not csr.is_signature_valid:
            raise UserError(
                "the certificate request's signature is invalid", "create a new request on the device"
            )
        cn = common_name(csr.subject)
        if cn != device_id:
            raise UserError(
                f"the certificate request names {cn!r}, not the device {device_id!r}",
                "the request's CN must be the device id the token was issued for",
            )
        key = csr.public_key()
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
            raise UserError("the certificate request's key is not EC P-256", "generate an EC P-256 key")
        ca_cert, ca_key = self.ca(DEVICE)
        cert = leaf_certificate(
            key,
            device_id,
            self.settings.organisation,
            (ca_cert, ca_key),
            days or self.settings.device_days,
            False,
        )
        self._record(cert, DEVICE)
        _logger.info("issued device certificate %x for %s", cert.serial_number, device_id)
        return IssuedCertificate(cert, (ca_cert, self.root))

    def issue_service(
        self, name: str, hosts: Sequence[str] = (), days: int | None = None, owner: str | None = None
    ) -> Path:
        """Create `services/NAME/{key,cert,chain}.pem` for the broker, the enrolment server or a svc-*."""
        check_name(name, "service name")
        ca_cert, ca_key = self.ca(SERVICE)
        key = new_key()
        cert = leaf_certificate(
            key.public_key(),
            name,
            self.settings.organisation,
            (ca_cert, ca_key),
            days or self.settings.service_days,
            True,
            hosts,
        )
        self._record(cert, SERVICE)
        folder = self.dir / "services" / name
        write_private(folder / "key.pem", key, owner)
        write_public(folder / "cert.pem", pem(cert))
        write_public(folder / "chain.pem", pem(cert) + pem(ca_cert))
        return folder

    def revoke(self, name: str, reason: str = "unspecified", authority: str = DEVICE) -> list[str]:
        """Revoke every current certificate of a device (or service) and rewrite the CRLs."""
        check_name(name, "device id" if authority == DEVICE else "service name")
        serials = self.ledger.revoke_cn(authority, name, reason)
        if not serials:
            raise UserError(f"no current certificate of {name!r} to revoke", "check the name with `ca list`")
        self.write_crls()
        _logger.info("revoked %d certificate(s) of %s", len(serials), name)
        return serials

    def write_crls(self, lifetime: dt.timedelta = dt.timedelta(days=CRL_DAYS)) -> None:
        """Write `crl.pem` of both intermediates (valid CRL_DAYS; re-run daily via `ca crl`)."""
        now = dt.datetime.now(dt.UTC)
        for authority in (DEVICE, SERVICE):
            ca_cert, ca_key = self.ca(authority)
            builder = (
                x509.CertificateRevocationListBuilder()
                .issuer_name(ca_cert.subject)
                .last_update(now - dt.timedelta(minutes=5))
                .next_update(now + lifetime)
            )
            for record in self.ledger.revoked(authority):
                builder = builder.add_revoked_certificate(
                    x509.RevokedCertificateBuilder()
                    .serial_number(int(record.serial, 16))
                    .revocation_date(dt.datetime.fromtimestamp(record.revoked_at or 0, dt.UTC))
                    .build()
                )
            write_public(self.dir / authority / "crl.pem", pem(builder.sign(ca_key, hashes.SHA256())))

    def verify_device(self, cert: x509.Certificate) -> str:
        """Return the device id of a certificate this device CA issued that is current and not revoked."""
        ca_cert, _ = self.ca(DEVICE)
        try:
            cert.verify_directly_issued_by(ca_cert)
        except (ValueError, TypeError, InvalidSignature):
            raise UserError("the certificate was not issued by the device CA", "enrol with a token") from None
        now = dt.datetime.now(dt.UTC)
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise UserError("the device certificate has expired", "enrol again with a new token")
        if self.ledger.is_revoked(cert.serial_number):
            raise UserError("the device certificate was revoked", "enrol again with a new token")
        return check_name(common_name(cert.subject))

    def certificates(self, cn: str | None = None) -> list[CertRecord]:
        """Ledger entries, newest first."""
        return self.ledger.all(cn)

    def _record(self, cert: x509.Certificate, authority: str) -> None:
        self.ledger.record(
            cert.serial_number,
            authority,
            common_name(cert.subject),
            int(cert.not_valid_before_utc.timestamp()),
            int(cert.not_valid_after_utc.timestamp()),
        )
