"""Certificate issuance RPC contract (methods `certificate.begin` … `certificate.confirm`).

Shared by the central issuance service and the kiosk client. Every step names the session it
belongs to; the issued document comes with a binding (session, nonce, card-certificate
fingerprint, device, serial, PDF hash) signed by the city's issuance key, which the kiosk checks
before printing (R-07: never print a document that is not bound to its own session).
"""

from __future__ import annotations

import base64
import enum
import hashlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from pydantic import Field

from madoguchi.contracts.base import ContractError, Message
from madoguchi.errors import UserError

__all__ = [
    "AuthStatus",
    "AuthenticateParams",
    "AuthenticateResult",
    "BeginResult",
    "Binding",
    "ConfirmOutcome",
    "ConfirmParams",
    "ConfirmResult",
    "IncidentKind",
    "IncidentParams",
    "IncidentResult",
    "IssueParams",
    "IssueResult",
    "Method",
    "Offer",
    "OptionsResult",
    "PrepareParams",
    "PrepareResult",
    "Refusal",
    "SessionParams",
    "b64d",
    "b64e",
    "cert_fingerprint",
    "load_issuance_key",
    "sign_binding",
    "verify_binding",
]

_BINDING_CONTEXT = b"madoguchi-issuance-binding-v1\n"


class Method(enum.StrEnum):
    """The RPC methods of the issuance service."""

    BEGIN = "certificate.begin"
    AUTHENTICATE = "certificate.authenticate"
    OPTIONS = "certificate.options"
    ISSUE = "certificate.issue"
    CONFIRM = "certificate.confirm"
    PREPARE = "certificate.prepare"
    INCIDENT = "certificate.incident"


def b64e(data: bytes) -> str:
    """Standard base64 text."""
    return base64.b64encode(data).decode("ascii")


def b64d(text: str, what: str) -> bytes:
    """Decode base64 or raise `ContractError` naming the field."""
    try:
        return base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise ContractError(f"{what} is not base64") from exc


def cert_fingerprint(certificate_der: bytes) -> str:
    """SHA-256 (hex) of a DER certificate: how sessions and bindings name the card's certificate."""
    return hashlib.sha256(certificate_der).hexdigest()


class BeginResult(Message):
    """A fresh session: random id and nonce (base64, 32 bytes) valid until `expires` (epoch ms)."""

    session_id: str
    nonce: str
    expires: int


class SessionParams(Message):
    """Parameters naming a session (options)."""

    session_id: str = Field(min_length=16, max_length=64)


class AuthenticateParams(Message):
    """The card's auth certificate (DER, base64) and its signature over the session nonce."""

    session_id: str = Field(min_length=16, max_length=64)
    certificate: str = Field(max_length=8000)
    signature: str = Field(max_length=2000)


class AuthStatus(enum.StrEnum):
    """Outcome of authentication that the resident sees."""

    AUTHENTICATED = "authenticated"
    REFUSED = "refused"


class Refusal(Message):
    """Why something is refused and where to go instead (texts in the resident's language)."""

    kind: str
    reason: str
    where_to_go: str = ""
    counter: str | None = None
    type_id: str | None = None


class AuthenticateResult(Message):
    """Authenticated (with the certificate fingerprint the service bound) or refused with a reason.

    `holder_name` is the authenticated resident's name as the registry holds it, for the kiosk to show
    (partly masked) on that resident's own confirmation screen, so the kiosk never reads it from the card
    (which would need the card's other PIN). Personal data: never logged, kept only for the session.
    """

    status: AuthStatus
    cert_fingerprint: str = ""
    refusal: Refusal | None = None
    holder_name: str = Field(default="", max_length=200, repr=False)


class Offer(Message):
    """A certificate type the resident may have now, its options (id → choice ids) and fee."""

    type_id: str
    name: str
    fee_yen: int
    max_copies: int
    options: dict[str, list[str]] = Field(default_factory=dict)
    defaults: dict[str, str] = Field(default_factory=dict)


class OptionsResult(Message):
    """What the resident may have and what is refused (with reasons), before any payment (R-06)."""

    offers: list[Offer]
    refused: list[Refusal]


class IssueParams(Message):
    """Issue one certificate after payment (`payment_ref`); a retry of the same session returns the same document."""

    session_id: str = Field(min_length=16, max_length=64)
    type_id: str
    choices: dict[str, str] = Field(default_factory=dict)
    copies: int = Field(default=1, ge=1, le=20)
    payment_ref: str = Field(min_length=1, max_length=80)
    amount_yen: int = Field(ge=0, description="what the terminal approved; must equal fee × copies")
    language: str = "ja"


class PrepareParams(Message):
    """Produce the document while the resident pays; `issue` then releases it (same type, choices, copies)."""

    session_id: str = Field(min_length=16, max_length=64)
    type_id: str
    choices: dict[str, str] = Field(default_factory=dict)
    copies: int = Field(default=1, ge=1, le=20)
    language: str = "ja"


class PrepareResult(Message):
    """The amount to charge (fee in force × copies); the document is being produced."""

    total_yen: int = Field(ge=0)
    fee_yen: int = Field(ge=0)
    copies: int = Field(ge=1)


class IncidentKind(enum.StrEnum):
    """What a kiosk reports for staff follow-up (R-12); never personal data."""

    PRINT_FAILED = "print_failed"  # error, then reprint or void
    PAYMENT_UNKNOWN = "payment_unknown"  # the terminal's result is unknown
    AMOUNT_MISMATCH = "amount_mismatch"  # paid amount differs from the fee
    CARD_LEFT = "card_left"  # card left behind after the alarm
    OTHER = "other"


class IncidentParams(Message):
    """`certificate.incident`: the kiosk opens an incident (session optional; detail without personal data)."""

    kind: IncidentKind
    session_id: str | None = Field(default=None, max_length=64)
    serial: str | None = Field(default=None, max_length=40)
    payment_ref: str | None = Field(default=None, max_length=80)
    detail: str = Field(default="", max_length=300)


class IncidentResult(Message):
    """The incident's id (quote it to staff)."""

    incident_id: int = Field(ge=1)


class Binding(Message):
    """What ties a document to one kiosk session."""

    session_id: str
    nonce_sha256: str
    cert_fingerprint: str
    device_id: str
    serial: str
    pdf_sha256: str
    issued_at: str

    def message(self) -> bytes:
        """Canonical bytes the issuance key signs."""
        fields = (
            self.session_id,
            self.nonce_sha256,
            self.cert_fingerprint,
            self.device_id,
            self.serial,
            self.pdf_sha256,
            self.issued_at,
        )
        return _BINDING_CONTEXT + "|".join(fields).encode("utf-8")


class IssueResult(Message):
    """The document (PDF, base64), its binding and the binding signature; `reprint` when re-sent free."""

    binding: Binding
    binding_sig: str
    pdf: str
    copies: int
    qr: str
    reprint: bool = False


class ConfirmOutcome(enum.StrEnum):
    """What the kiosk reports after trying to print."""

    PRINTED = "printed"
    FAILED = "failed"  # reprint allowed within the window, without paying again
    VOID = "void"  # nothing could be printed: the document is voided


class ConfirmParams(Message):
    """Confirm a document's outcome."""

    session_id: str = Field(min_length=16, max_length=64)
    serial: str
    outcome: ConfirmOutcome


class ConfirmResult(Message):
    """Where the session stands after confirmation."""

    state: str
    reprint_until: int | None = None
    unissued_slip: str | None = None  # after a failed print: signed 未交付 slip text for a QR


def sign_binding(binding: Binding, key: Ed25519PrivateKey) -> str:
    """Base64 Ed25519 signature over the binding's canonical bytes."""
    return b64e(key.sign(binding.message()))


def verify_binding(binding: Binding, signature: str, key: Ed25519PublicKey) -> None:
    """Raise `ContractError` unless `signature` is the issuance key's signature of `binding`."""
    try:
        key.verify(b64d(signature, "binding_sig"), binding.message())
    except InvalidSignature as exc:
        raise ContractError("the document binding is not signed by the issuance key") from exc


def load_issuance_key(path: Path) -> Ed25519PublicKey:
    """The city's issuance public key (PEM): documents, QR codes and slips are checked against it."""
    try:
        key = load_pem_public_key(path.read_bytes())
    except OSError as exc:
        raise UserError(
            f"cannot read {path}: {exc.strerror}", "pass the city's issuance public key (PEM)"
        ) from exc
    except ValueError as exc:
        raise UserError(
            f"{path} is not a PEM public key", "pass the city's issuance public key (PEM)"
        ) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise UserError(f"{path} is not an Ed25519 key", "the issuance key is Ed25519")
    return key
