"""Signed documents (contract §5): DSSE envelopes with Ed25519, and the documents they carry."""

from __future__ import annotations

import base64
import enum
import hashlib
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import BaseModel, ConfigDict, Field, model_validator

from madoguchi.contracts.base import ContractError, DeviceId, Message

__all__ = [
    "CatalogRef",
    "CommandDocument",
    "CommandOp",
    "ControlDocument",
    "DesiredDocument",
    "Envelope",
    "FunctionControl",
    "KeysDocument",
    "ManifestDocument",
    "ManifestFile",
    "PayloadType",
    "PublicKeyEntry",
    "ReleaseRef",
    "Signature",
    "key_id",
    "pae",
    "sign",
    "verify",
]


class PayloadType(enum.StrEnum):
    """A distinct DSSE payload type per document, so one can never pass for another."""

    KEYS = "application/vnd.madoguchi.keys.v1+json"
    MANIFEST = "application/vnd.madoguchi.manifest.v1+json"
    DESIRED = "application/vnd.madoguchi.desired.v1+json"
    CMD = "application/vnd.madoguchi.cmd.v1+json"
    CONTROL = "application/vnd.madoguchi.control.v1+json"
    RELEASE = "application/vnd.madoguchi.release.v1+json"


class Signature(Message):
    """One signature: key id and base64 Ed25519 signature over the PAE."""

    keyid: str
    sig: str


class Envelope(Message):
    """DSSE envelope: base64 payload, its type and signatures."""

    payload: str
    payloadType: PayloadType
    signatures: list[Signature] = Field(min_length=1)

    def body(self) -> bytes:
        """The signed bytes (not yet verified)."""
        try:
            return base64.b64decode(self.payload, validate=True)
        except ValueError as exc:
            raise ContractError("envelope payload is not base64") from exc


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE pre-authentication encoding: `DSSEv1 SP len(type) SP type SP len(body) SP body`."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(body), body)


def key_id(public_key: Ed25519PublicKey) -> str:
    """Key id: first 16 hex digits of the SHA-256 of the raw 32-byte public key."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign(payload_type: PayloadType, body: bytes, key: Ed25519PrivateKey) -> Envelope:
    """Sign exact `body` bytes as `payload_type`."""
    sig = key.sign(pae(payload_type.value, body))
    return Envelope(
        payload=base64.b64encode(body).decode(),
        payloadType=payload_type,
        signatures=[Signature(keyid=key_id(key.public_key()), sig=base64.b64encode(sig).decode())],
    )


def verify(envelope: Envelope, expected: PayloadType, keys: dict[str, Ed25519PublicKey]) -> bytes:
    """Check type, then a signature by one of `keys`; return the body.

    Raises:
        ContractError: wrong type, or no valid signature by a current key.
    """
    if envelope.payloadType is not expected:
        raise ContractError(f"expected a {expected.value} document, got {envelope.payloadType.value}")
    body = envelope.body()
    message = pae(envelope.payloadType.value, body)
    for signature in envelope.signatures:
        public = keys.get(signature.keyid)
        if public is None:
            continue
        try:
            public.verify(base64.b64decode(signature.sig), message)
        except (InvalidSignature, ValueError):
            continue
        return body
    raise ContractError(f"{expected.value}: no valid signature by a current key")


class PublicKeyEntry(Message):
    """A catalog-signing key listed in the root-signed keys document."""

    keyid: str
    public_key: str = Field(description="base64 raw 32-byte Ed25519 public key")
    roles: list[Literal["catalog", "cmd", "control"]]


class KeysDocument(Message):
    """`fleet/keys`: root-signed list of the keys that sign catalogs, commands and control."""

    version: int = Field(ge=1)
    expires: int = Field(ge=0, description="epoch ms")
    keys: list[PublicKeyEntry]


class ManifestFile(Message):
    """One file of a catalog release."""

    name: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    length: int = Field(ge=0)


class ManifestDocument(Message):
    """`fleet/catalog/manifest`: a catalog release; `version` never reused, never lowered."""

    version: int = Field(ge=1)
    expires: int = Field(ge=0)
    min_app_version: str = "0.0.0"
    files: list[ManifestFile] = Field(min_length=1)


class CatalogRef(Message):
    """Where a device gets the catalog body it should run."""

    version: int = Field(ge=1)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    length: int = Field(ge=0)
    url: str


RELEASE_VERSION_PATTERN = r"^\d{1,6}\.\d{1,6}\.\d{1,6}$"


class ReleaseRef(Message):
    """Where a device gets the app release bundle it should run (downloaded over mutual TLS)."""

    version: str = Field(pattern=RELEASE_VERSION_PATTERN, description="MAJOR.MINOR.PATCH, only ever rising")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    length: int = Field(ge=1, le=2_000_000_000)
    url: str = Field(
        pattern=r"^https://[^\s]+$", description="the bundle, served to device certificates only"
    )


class DesiredDocument(Message):
    """`down/desired` (retained, per device): the catalog and the app release this device should run.

    Either may be absent (a kiosk enrolled before any catalog was published can still be told its
    release), never both. `device` binds the signed document to one kiosk: the centre always sets it,
    and a kiosk refuses a document that names no device or another one (a validly signed document
    copied onto its topic).
    """

    device: DeviceId | None = Field(
        default=None,
        description="the device this document is for; kiosks refuse it when absent or not theirs",
    )
    catalog: CatalogRef | None = None
    release: ReleaseRef | None = None
    expires: int = Field(ge=0)

    @model_validator(mode="after")
    def _names_something(self) -> DesiredDocument:
        if self.catalog is None and self.release is None:
            raise ValueError("a desired document names a catalog, a release or both")
        return self


class CommandOp(enum.StrEnum):
    """Remote commands an operator can send to a kiosk."""

    REBIRTH = "rebirth"
    REBOOT = "reboot"
    RESTART_APP = "restart_app"
    FLUSH = "flush"
    COLLECT_LOGS = "collect_logs"
    MAINTENANCE_ON = "maintenance_on"
    MAINTENANCE_OFF = "maintenance_off"
    PRINT_TEST_PAGE = "print_test_page"
    STAFF_CALL_ACK = "staff_call_ack"  # staff are coming to the call named in `ref`
    STAFF_CALL_CLOSE = "staff_call_close"  # the call named in `ref` was dealt with (or withdrawn by staff)


class CommandDocument(Message):
    """`down/cmd`: a signed, short-lived command for one device."""

    cmd_id: str = Field(min_length=1, max_length=64)
    device_id: DeviceId
    op: CommandOp
    expires: int = Field(ge=0)
    ref: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9-]{1,64}$",
        description="what the command is about (a staff call's id)",
    )


class FunctionControl(BaseModel):
    """Suspension of one function (issuance, payment, tickets): fleet-wide, per city, per device."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    suspended_all: bool = False
    suspended_municipalities: list[str] = Field(default_factory=list)
    suspended_devices: list[DeviceId] = Field(default_factory=list)
    message: dict[str, str] = Field(default_factory=dict, description="language code → text")

    def suspends(self, device_id: str, municipality: str | None) -> bool:
        """Whether this control stops the function on `device_id`."""
        return (
            self.suspended_all
            or device_id in self.suspended_devices
            or (municipality is not None and municipality in self.suspended_municipalities)
        )


class ControlDocument(Message):
    """`fleet/control` (retained): the kill switch, R-11."""

    version: int = Field(ge=1)
    ts: int = Field(ge=0)
    issuance: FunctionControl = Field(default_factory=FunctionControl)
    payment: FunctionControl = Field(default_factory=FunctionControl)
    tickets: FunctionControl = Field(default_factory=FunctionControl)
