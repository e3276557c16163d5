"""X.509 building blocks for the fleet PKI: EC P-256 keys, CA and leaf certificates, CRLs, PEM files."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import pwd
import re
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from madoguchi.errors import UserError

__all__ = [
    "NAME_PATTERN",
    "ca_certificate",
    "check_name",
    "common_name",
    "fingerprint",
    "leaf_certificate",
    "load_certificate",
    "load_certificates",
    "load_key",
    "new_key",
    "pem",
    "write_private",
    "write_public",
]

# Device ids and service names: the device CA refuses anything else (contract §1, §6).
NAME_PATTERN = re.compile(r"^[a-z0-9-]{3,64}$")
_BACKDATE = dt.timedelta(minutes=5)


def check_name(name: str, what: str = "device id") -> str:
    """Return `name` if it is a valid certificate CN, else raise a `UserError` that says why."""
    if not NAME_PATTERN.fullmatch(name):
        raise UserError(
            f"{what} {name!r} is not allowed as a certificate name",
            "use 3 to 64 characters from a-z, 0-9 and '-' (e.g. jp-131016-k03); no '/', capitals or spaces",
        )
    return name


def new_key() -> ec.EllipticCurvePrivateKey:
    """A fresh EC P-256 private key."""
    return ec.generate_private_key(ec.SECP256R1())


def pem(obj: x509.Certificate | x509.CertificateRevocationList | x509.CertificateSigningRequest) -> bytes:
    """PEM bytes of a certificate, CRL or CSR."""
    return obj.public_bytes(serialization.Encoding.PEM)


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """Unencrypted PKCS#8 PEM of a private key (protected by file mode 0600)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def write_private(path: Path, key: ec.EllipticCurvePrivateKey, owner: str | None = None) -> None:
    """Write a private key readable by its owner only (0600), created with that mode, atomically.

    Args:
        path: where the key goes.
        key: the key.
        owner: user that must read it (e.g. `mosquitto`, which drops root before loading its key).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_pem(key))
        handle.flush()
        os.fsync(handle.fileno())
    if owner:
        try:
            user = pwd.getpwnam(owner)
        except KeyError:
            tmp.unlink()
            raise UserError(f"user {owner!r} does not exist", "pass an existing user to --owner") from None
        os.chown(tmp, user.pw_uid, user.pw_gid)
    os.replace(tmp, path)


def write_public(path: Path, data: bytes) -> None:
    """Write a certificate, chain or CRL (0644), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.chmod(0o644)
    os.replace(tmp, path)


def load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """Read an EC private key, with a clear error when it is missing or of another kind."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise UserError(
            f"private key {path} does not exist", "check the --dir option or run `ca init`"
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise UserError(f"{path} is not an EC private key", "keys of this PKI are EC P-256")
    return key


def load_certificates(path: Path) -> list[x509.Certificate]:
    """Every certificate of a PEM file (a chain), in file order."""
    try:
        return x509.load_pem_x509_certificates(path.read_bytes())
    except FileNotFoundError:
        raise UserError(
            f"certificate file {path} does not exist", "check the path or run `ca init`"
        ) from None


def load_certificate(path: Path) -> x509.Certificate:
    """The first certificate of a PEM file."""
    return load_certificates(path)[0]


def common_name(name: x509.Name) -> str:
    """The CN of a subject or issuer ('' when absent)."""
    attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else ""


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 fingerprint of a certificate, lowercase hex (what `enrol.json` pins)."""
    return cert.fingerprint(hashes.SHA256()).hex()


def _name(cn: str, org: str) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org), x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    )


def ca_certificate(
    key: ec.EllipticCurvePrivateKey,
    cn: str,
    org: str,
    days: int,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
    path_length: int | None = 0,
) -> x509.Certificate:
    """A CA certificate: self-signed root when `issuer` is None, else an intermediate signed by it."""
    now = dt.datetime.now(dt.UTC)
    subject = _name(cn, org)
    issuer_name = issuer[0].subject if issuer else subject
    signing_key = issuer[1] if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer[1].public_key()), critical=False
        )
    return builder.sign(signing_key, hashes.SHA256())


def leaf_certificate(
    public_key: ec.EllipticCurvePublicKey,
    cn: str,
    org: str,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey],
    days: int,
    server: bool,
    hosts: Sequence[str] = (),
) -> x509.Certificate:
    """An end-entity certificate: client auth always, server auth when `server`; SAN = CN + `hosts`."""
    now = dt.datetime.now(dt.UTC)
    ca_cert, ca_key = issuer
    not_after = min(now + dt.timedelta(days=days), ca_cert.not_valid_after_utc)
    sans: list[x509.GeneralName] = [x509.DNSName(cn)]
    for host in hosts:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            if host != cn:
                sans.append(x509.DNSName(host))
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH] + ([ExtendedKeyUsageOID.SERVER_AUTH] if server else [])
    return (
        x509.CertificateBuilder()
        .subject_name(_name(cn, org))
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
