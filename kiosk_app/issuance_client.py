"""Kiosk side of certificate issuance: runs begin → authenticate → options → issue → confirm over RPC.

Before anything is printed the client checks that the document is bound to *its own* session: the
binding must be signed by the city's issuance key and name this session id, the SHA-256 of this
session's nonce, the fingerprint of the certificate read from the card in the slot, this device,
and the exact PDF bytes received (R-07). A document that fails any check is never printed; the
caller raises an incident. The PDF is kept in a wipeable buffer and zeroed after printing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from device_drivers.card.constants import CardKind
from device_drivers.card.pin import Pin
from device_drivers.card.session import CardSession
from kiosk_app.rpc_client import RpcClient
from madoguchi import __version__
from madoguchi.contracts.base import ContractError
from madoguchi.contracts.issuance import (
    AuthenticateResult,
    AuthStatus,
    BeginResult,
    ConfirmOutcome,
    ConfirmResult,
    IncidentKind,
    IncidentParams,
    IncidentResult,
    IssueResult,
    Method,
    OptionsResult,
    PrepareResult,
    Refusal,
    b64d,
    b64e,
    cert_fingerprint,
    verify_binding,
)

__all__ = [
    "DocumentRejected",
    "IssuanceClient",
    "IssuanceRefused",
    "KioskSession",
    "PrintableDocument",
]

_logger = logging.getLogger(__name__)


class IssuanceRefused(Exception):
    """The service refused the resident; `refusal` has the reason and where to go."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.kind)
        self.refusal = refusal


class DocumentRejected(Exception):
    """A document not bound to this session: never print it; abort and raise an incident (R-07, R-12)."""


@dataclass(repr=False)
class KioskSession:
    """This kiosk's view of one session (the nonce stays in memory only)."""

    session_id: str
    nonce: bytes
    expires_ms: int
    cert_fp: str = ""
    total_yen: int | None = None  # what the last `prepare` said to charge
    holder_name: str = ""  # from the central's authentication answer; personal data, see `take_holder_name`
    language: str = ""  # the resident's language for refusal texts; "" uses the client's default

    def take_holder_name(self) -> str:
        """The authenticated resident's name (for their confirmation screen), forgotten here once taken."""
        name, self.holder_name = self.holder_name, ""
        return name

    def __repr__(self) -> str:
        return "KioskSession(<secret>)"


@dataclass(repr=False)
class PrintableDocument:
    """A checked document; `wipe()` zeroes the PDF buffer."""

    serial: str
    copies: int
    qr: str
    reprint: bool
    _pdf: bytearray = field(default_factory=bytearray)

    def pdf(self) -> bytes:
        """A copy of the PDF bytes for the printer."""
        if not self._pdf:
            raise ValueError("the document was wiped")
        return bytes(self._pdf)

    def wipe(self) -> None:
        """Overwrite and drop the PDF."""
        for i in range(len(self._pdf)):
            self._pdf[i] = 0
        self._pdf.clear()

    @property
    def wiped(self) -> bool:
        """True once the PDF is gone."""
        return not self._pdf

    def __repr__(self) -> str:
        return f"PrintableDocument({self.serial!r})"


class IssuanceClient:
    """The issuance steps for one kiosk.

    Args:
        rpc: RPC client of this device.
        issuance_key: the city's issuance public key (checks document bindings).
        timeout_s: deadline of each call.
        language: language of refusal texts.
        app_version: reported at `begin`; below the service's minimum no session starts (R-10).
    """

    def __init__(
        self,
        rpc: RpcClient,
        issuance_key: Ed25519PublicKey,
        *,
        timeout_s: float = 10.0,
        language: str = "ja",
        app_version: str = __version__,
    ) -> None:
        self.rpc = rpc
        self.device_id = rpc.device_id
        self.issuance_key = issuance_key
        self.timeout_s = timeout_s
        self.language = language
        self.app_version = app_version

    def _call(
        self, method: Method, params: Mapping[str, object], session: KioskSession | None = None
    ) -> dict[str, Any]:
        language = (session.language if session is not None else "") or self.language
        return self.rpc.call(method.value, {**params, "language": language}, self.timeout_s)

    def begin(self, language: str = "") -> KioskSession:
        """A new session (the service ends this device's earlier open sessions).

        `language` is the resident's: refusal texts of this session come in it (default: the client's).
        """
        result = BeginResult.model_validate(self._call(Method.BEGIN, {"app_ver": self.app_version}))
        return KioskSession(
            result.session_id, b64d(result.nonce, "nonce"), result.expires, language=language or self.language
        )

    def authenticate_with(
        self, session: KioskSession, certificate_der: bytes, signature: bytes
    ) -> KioskSession:
        """Send the card's certificate and its signature over the nonce; raise `IssuanceRefused` if refused."""
        result = AuthenticateResult.model_validate(
            self._call(
                Method.AUTHENTICATE,
                {
                    "session_id": session.session_id,
                    "certificate": b64e(certificate_der),
                    "signature": b64e(signature),
                },
                session,
            )
        )
        if result.status is AuthStatus.REFUSED:
            assert result.refusal is not None
            raise IssuanceRefused(result.refusal)
        own = cert_fingerprint(certificate_der)
        if result.cert_fingerprint != own:
            raise DocumentRejected("the service bound another certificate to this session")
        session.cert_fp = own
        session.holder_name = result.holder_name
        return session

    def authenticate(
        self, session: KioskSession, card: CardSession, pin: Pin, *, accept: tuple[CardKind, ...] = ()
    ) -> KioskSession:
        """Run the JPKI authentication on the card over the session nonce (wipes `pin`), then on the service."""
        auth = card.authenticate(pin, session.nonce, accept=accept)
        return self.authenticate_with(session, auth.certificate_der, auth.signature)

    def options(self, session: KioskSession) -> OptionsResult:
        """What the resident may have now, and what is refused with reasons."""
        return OptionsResult.model_validate(
            self._call(Method.OPTIONS, {"session_id": session.session_id}, session)
        )

    def prepare(
        self,
        session: KioskSession,
        type_id: str,
        *,
        choices: dict[str, str] | None = None,
        copies: int = 1,
    ) -> PrepareResult:
        """Before payment: check the request and let the service render it while the resident pays.

        Returns the amount to charge (fee in force × copies); raises `RpcError` when refused.
        """
        params = {
            "session_id": session.session_id,
            "type_id": type_id,
            "choices": choices or {},
            "copies": copies,
        }
        result = PrepareResult.model_validate(self._call(Method.PREPARE, params, session))
        session.total_yen = result.total_yen
        return result

    def issue(
        self,
        session: KioskSession,
        type_id: str,
        payment_ref: str,
        *,
        amount_yen: int | None = None,
        choices: dict[str, str] | None = None,
        copies: int = 1,
    ) -> PrintableDocument:
        """Get the document and check its binding; raise `DocumentRejected` when it is not this session's.

        `amount_yen` is what the terminal approved; the service refuses a mismatch with the fee ×
        copies (and opens an incident). Without it, the amount of this session's last `prepare` is used
        (preparing first if there was none) — only for callers that charged exactly that.
        """
        if amount_yen is None:
            amount_yen = session.total_yen
            if amount_yen is None:
                amount_yen = self.prepare(session, type_id, choices=choices, copies=copies).total_yen
        params = {
            "session_id": session.session_id,
            "type_id": type_id,
            "choices": choices or {},
            "copies": copies,
            "payment_ref": payment_ref,
            "amount_yen": amount_yen,
        }
        result = IssueResult.model_validate(self._call(Method.ISSUE, params, session))
        pdf = bytearray(b64d(result.pdf, "pdf"))
        try:
            self.check_binding(session, result, pdf)
        except DocumentRejected:
            for i in range(len(pdf)):
                pdf[i] = 0
            raise
        return PrintableDocument(result.binding.serial, result.copies, result.qr, result.reprint, pdf)

    def report_incident(
        self,
        kind: IncidentKind,
        *,
        session: KioskSession | None = None,
        serial: str | None = None,
        payment_ref: str | None = None,
        detail: str = "",
    ) -> int:
        """Open an incident for staff (R-12): a failed print, an unknown payment, a card left behind.

        `detail` must not hold personal data. Returns the incident id to show the resident.
        """
        params = IncidentParams(
            kind=kind,
            session_id=None if session is None else session.session_id,
            serial=serial,
            payment_ref=payment_ref,
            detail=detail,
        )
        result = IncidentResult.model_validate(self._call(Method.INCIDENT, params.model_dump(mode="json")))
        return result.incident_id

    def check_binding(self, session: KioskSession, result: IssueResult, pdf: bytes | bytearray) -> None:
        """Raise `DocumentRejected` unless `result` is signed and bound to this session, nonce, card and device."""
        binding = result.binding
        try:
            verify_binding(binding, result.binding_sig, self.issuance_key)
        except ContractError as exc:
            raise DocumentRejected(str(exc)) from exc
        expected = {
            "session": (binding.session_id, session.session_id),
            "nonce": (binding.nonce_sha256, hashlib.sha256(session.nonce).hexdigest()),
            "card certificate": (binding.cert_fingerprint, session.cert_fp),
            "device": (binding.device_id, self.device_id),
            "document bytes": (binding.pdf_sha256, hashlib.sha256(pdf).hexdigest()),
        }
        wrong = [name for name, (got, want) in expected.items() if not want or got != want]
        if wrong:
            _logger.error("document %s rejected: bound to another %s", binding.serial, ", ".join(wrong))
            raise DocumentRejected(f"document {binding.serial} is bound to another {', '.join(wrong)}")

    def confirm(self, session: KioskSession, serial: str, outcome: ConfirmOutcome) -> ConfirmResult:
        """Report printed / failed / void (after `failed`, `unissued_slip` holds the signed 未交付 slip text)."""
        params = {"session_id": session.session_id, "serial": serial, "outcome": outcome.value}
        return ConfirmResult.model_validate(self._call(Method.CONFIRM, params, session))

    def print_and_confirm(
        self,
        session: KioskSession,
        document: PrintableDocument,
        print_pdf: Callable[[bytes, int], None],
        on_failed: Callable[[ConfirmResult], None] | None = None,
    ) -> ConfirmResult:
        """Print (`print_pdf(pdf, copies)`), confirm the outcome, and wipe the document whatever happens.

        When printing raises, the failure is confirmed (the centre opens a print_failed incident) and
        `on_failed` (added in session 2; optional) receives that confirmation before the error is
        re-raised: its `unissued_slip` is the signed 未交付 slip text to print as a QR code on the receipt
        printer (R-15) and `reprint_until` the end of the free reprint window.
        """
        try:
            try:
                print_pdf(document.pdf(), document.copies)
            except Exception:
                _logger.exception("printing %s failed", document.serial)
                failed = self.confirm(session, document.serial, ConfirmOutcome.FAILED)
                if on_failed is not None:
                    on_failed(failed)
                raise
            return self.confirm(session, document.serial, ConfirmOutcome.PRINTED)
        finally:
            document.wipe()
