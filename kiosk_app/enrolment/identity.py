"""The device identity on the data partition: EC key (0600), certificate, chain, pinned root, config."""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kiosk_app.agent.durable import fsync_dir
from kiosk_app.enrolment.swap import create_file
from madoguchi.enrolment import EnrolResponse
from madoguchi.errors import UserError

__all__ = ["EnrolmentState", "IdentityPaths", "check_issued", "csr_pem", "key_bytes", "new_key", "write_file"]


@dataclass(frozen=True)
class IdentityPaths:
    """Where a device keeps its identity (`<data>/identity/`) and its configuration (`<data>/config/`)."""

    data_dir: Path

    @property
    def identity(self) -> Path:
        """Identity folder."""
        return self.data_dir / "identity"

    @property
    def key(self) -> Path:
        """Device private key (0600)."""
        return self.identity / "key.pem"

    @property
    def cert(self) -> Path:
        """Device certificate alone."""
        return self.identity / "cert.pem"

    @property
    def chain(self) -> Path:
        """Device certificate + device CA: what TLS clients (MQTT, renewal) present."""
        return self.identity / "chain.pem"

    @property
    def ca(self) -> Path:
        """Pinned fleet root."""
        return self.identity / "ca.pem"

    @property
    def state(self) -> Path:
        """Enrolment state: central URL, device id, expiry, renewal time."""
        return self.identity / "enrolment.json"

    @property
    def config(self) -> Path:
        """Kiosk configuration written at enrolment."""
        return self.data_dir / "config" / "kiosk.toml"


@dataclass(frozen=True)
class EnrolmentState:
    """`identity/enrolment.json`."""

    device_id: str
    central_url: str
    branch: str
    not_after: int
    renew_after: int

    def to_bytes(self) -> bytes:
        """The JSON file's content."""
        return json.dumps(self.__dict__, indent=2).encode()

    def save(self, path: Path, owner: str | None) -> None:
        """Write atomically."""
        write_file(path, self.to_bytes(), 0o644, owner)

    @classmethod
    def load(cls, path: Path) -> EnrolmentState:
        """Read, with a clear error when the device is not enrolled."""
        try:
            return cls(**json.loads(path.read_text()))
        except FileNotFoundError:
            raise UserError(
                f"this device is not enrolled ({path} is missing)", "run `kiosk enrol` first"
            ) from None


def write_file(path: Path, data: bytes, mode: int, owner: str | None = None) -> None:
    """Create `path` with `mode` from the start (never briefly world-readable), fsync, rename into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    create_file(tmp, data, mode, owner)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def new_key() -> ec.EllipticCurvePrivateKey:
    """A new EC P-256 key, generated on the device."""
    return ec.generate_private_key(ec.SECP256R1())


def key_bytes(key: ec.EllipticCurvePrivateKey) -> bytes:
    """PKCS#8 PEM of the key."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def csr_pem(key: ec.EllipticCurvePrivateKey, device_id: str) -> str:
    """A CSR with CN and DNS SAN = device id."""
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, device_id)]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(device_id)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def check_issued(
    response: EnrolResponse, key: ec.EllipticCurvePrivateKey, device_id: str, root: x509.Certificate
) -> None:
    """Refuse an answer whose certificate is not for our key and name or does not chain to the pinned root."""
    cert = x509.load_pem_x509_certificate(response.cert_pem.encode())
    chain = x509.load_pem_x509_certificates(response.chain_pem.encode()) if response.chain_pem else []
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not cn or cn[0].value != device_id or response.device_id != device_id:
        raise UserError(
            f"the central returned a certificate for another name than {device_id}",
            "report this to the operator",
        )
    if cert.public_key() != key.public_key():
        raise UserError("the central returned a certificate for another key", "report this to the operator")
    try:
        for child, parent in zip([cert, *chain], [*chain, root], strict=True):
            child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature):
        raise UserError(
            "the returned certificate does not chain to the pinned root", "report this to the operator"
        ) from None
    if cert.not_valid_after_utc <= dt.datetime.now(dt.UTC):
        raise UserError("the central returned an expired certificate", "check the central's clock")
