"""The issuance service: begin → authenticate → options → issue → confirm, each bound to one session.

A session is created for one device with a random id and a random nonce valid for `nonce_ttl_s`.
The card's signature over that nonce binds the card certificate to the session; the document
issued in the session is bound to (session, nonce, certificate fingerprint, device) by a signature
of the city's issuance key that the kiosk checks before printing. No state is shared between
sessions, a device has at most one open session, and a render that ends after the request's
deadline is thrown away whole (Yokohama 2023).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from central_broker.issuance.authcheck import AuthVerdict, RevocationChecker, check_authentication
from central_broker.issuance.checkcode import CheckKeys
from central_broker.issuance.documents import printable
from central_broker.issuance.eligibility import Eligibility, refusal_for
from central_broker.issuance.errors import IssuanceError
from central_broker.issuance.incidents import Incident, IncidentLog
from central_broker.issuance.issuing import confirm_document, issue_document, sweep_documents
from central_broker.issuance.producing import Preparer
from central_broker.issuance.registry import Resident, ResidentRegistry
from central_broker.issuance.store import (
    AuditEntry,
    IssuanceStore,
    SessionRow,
    SessionState,
)
from central_broker.issuance.vault import Vault
from madoguchi.contracts.base import ContractError, municipality_of
from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.catalog_rules import RuleKind
from madoguchi.contracts.issuance import (
    AuthenticateParams,
    AuthenticateResult,
    AuthStatus,
    BeginResult,
    ConfirmParams,
    ConfirmResult,
    IncidentKind,
    IncidentParams,
    IncidentResult,
    IssueParams,
    IssueResult,
    OptionsResult,
    PrepareParams,
    PrepareResult,
    b64d,
    b64e,
    cert_fingerprint,
)
from madoguchi.contracts.rpc import RpcErrorCode
from madoguchi.contracts.signed import ControlDocument, FunctionControl

__all__ = ["IssuanceService", "IssuanceSettings"]

_logger = logging.getLogger(__name__)

_UNKNOWN_SESSION = "no such session for this device; start again"


@dataclass(frozen=True, repr=False)
class IssuanceSettings:
    """Configuration of the service (keys are secrets: repr hides everything)."""

    catalog: Catalog
    trusted_cas: tuple[x509.Certificate, ...]
    signing_key: Ed25519PrivateKey
    audit_key: bytes
    mayor: str = "市長"
    nonce_ttl_s: float = 120.0
    session_ttl_s: float = 600.0
    reprint_window_s: float = 600.0
    keep_documents: bool = False
    min_app_version: str | None = None  # kiosks reporting less (or nothing) cannot begin
    verify_url: str | None = None  # the public verification page printed on certificates

    def __repr__(self) -> str:
        return "IssuanceSettings(<secrets>)"


class IssuanceService:
    """Thread-safe: all state lives in the store; the only in-memory state is the kill switch."""

    def __init__(
        self,
        settings: IssuanceSettings,
        store: IssuanceStore,
        registry: ResidentRegistry,
        revocation: RevocationChecker,
        vault: Vault | None = None,
        clock: Callable[[], float] = time.time,
        render_pool: Executor | None = None,
        incidents: IncidentLog | None = None,
        on_incident: Callable[[Incident], None] | None = None,
    ) -> None:
        if settings.keep_documents and (vault is None or not vault.persistent):
            raise ValueError("keep_documents needs a Vault with a configured key")
        self.settings = settings
        self.store = store
        self.registry = registry
        self.revocation = revocation
        self.vault = vault or Vault()
        self.clock = clock
        self.render_pool = render_pool
        self.incidents = incidents or IncidentLog(store.path)
        self.check_keys = CheckKeys(settings.audit_key)
        self.on_incident = on_incident
        self.preparer = Preparer(self)
        self._control_lock = threading.Lock()
        self._control: ControlDocument | None = None

    # --- kill switch ---------------------------------------------------------------------------------

    def apply_control(self, document: ControlDocument) -> bool:
        """Apply a verified `fleet/control` document unless it is older than the one in force."""
        with self._control_lock:
            if self._control is not None and document.version < self._control.version:
                _logger.warning(
                    "ignored control version %d (have %d)", document.version, self._control.version
                )
                return False
            self._control = document
        _logger.info("control version %d applied", document.version)
        return True

    def issuance_control(self) -> FunctionControl:
        """The issuance part of the control document in force (nothing suspended when none arrived)."""
        with self._control_lock:
            return self._control.issuance if self._control else FunctionControl()

    # --- helpers -------------------------------------------------------------------------------------

    def now_ms(self) -> int:
        """Now, epoch milliseconds (the injected clock)."""
        return int(self.clock() * 1000)

    def now(self) -> datetime:
        """Now as an aware UTC datetime."""
        return datetime.fromtimestamp(self.clock(), UTC)

    def _cert_hmac(self, cert_fp: str | None) -> str:
        return hmac.new(self.settings.audit_key, (cert_fp or "").encode(), hashlib.sha256).hexdigest()

    def audit_entry(
        self, device_id: str, event: str, type_id: str, serial: str, cert_fp: str | None
    ) -> AuditEntry:
        """An audit line stamped now, with the keyed hash of the card certificate."""
        return AuditEntry(self.now_ms(), device_id, event, type_id, serial, self._cert_hmac(cert_fp))

    def own_session(self, device_id: str, session_id: str) -> SessionRow:
        """The session if it belongs to `device_id`; the same refusal for unknown and foreign ids."""
        row = self.store.session(session_id)
        if row is None or row.device_id != device_id:
            if row is not None:
                _logger.warning("device %s used a session of another device", device_id)
            raise IssuanceError(RpcErrorCode.PERMISSION_DENIED, _UNKNOWN_SESSION)
        return row

    def live_session(self, device_id: str, session_id: str) -> tuple[SessionRow, Resident]:
        """An authenticated, unexpired session of `device_id` and its resident."""
        row = self.own_session(device_id, session_id)
        if row.state is not SessionState.AUTHENTICATED:
            raise IssuanceError(RpcErrorCode.CONFLICT, f"the session is {row.state.value}; start again")
        if self.now_ms() > (row.authenticated_ms or 0) + int(self.settings.session_ttl_s * 1000):
            self.store.set_session_state(session_id, (SessionState.AUTHENTICATED,), SessionState.EXPIRED)
            raise IssuanceError(RpcErrorCode.PERMISSION_DENIED, "the session has expired; start again")
        resident = self.resident_of(row)
        return row, resident

    def resident_of(self, row: SessionRow) -> Resident:
        """The session's resident from the registry."""
        resident = self.registry.resident(row.resident_id) if row.resident_id else None
        if resident is None:
            raise IssuanceError(RpcErrorCode.NOT_FOUND, "the resident record is no longer available")
        return resident

    def eligibility(self) -> Eligibility:
        """The eligibility rules with the kill switch now in force."""
        return Eligibility(self.settings.catalog, self.issuance_control(), printable)

    # --- the five steps ------------------------------------------------------------------------------

    def begin(self, device_id: str, app_version: str | None = None) -> BeginResult:
        """A fresh session with a random nonce for `device_id`; earlier open sessions of the device end."""
        control = self.issuance_control()
        if control.suspends(device_id, municipality_of(device_id)):
            raise IssuanceError(RpcErrorCode.UNAVAILABLE, "certificate issuance is suspended (kill switch)")
        minimum = self.settings.min_app_version
        if minimum is not None and (app_version is None or _version(app_version) < _version(minimum)):
            _logger.warning("device %s: app version %s below the minimum %s", device_id, app_version, minimum)
            raise IssuanceError(
                RpcErrorCode.UNAVAILABLE,
                f"kiosk software {app_version or '?'} is below {minimum}; update first",
            )
        self.sweep()
        session_id = secrets.token_urlsafe(24)
        nonce = secrets.token_bytes(32)
        now = self.now_ms()
        ttl = int(self.settings.nonce_ttl_s * 1000)
        cancelled = self.store.create_session(session_id, device_id, nonce, now, ttl)
        if cancelled:
            _logger.info("device %s: new session cancelled %d open session(s)", device_id, cancelled)
        return BeginResult(session_id=session_id, nonce=b64e(nonce), expires=now + ttl)

    def authenticate(
        self, device_id: str, params: AuthenticateParams, language: str = "ja"
    ) -> AuthenticateResult:
        """Verify the card's signature over this session's nonce and map the certificate to a resident."""
        row = self.own_session(device_id, params.session_id)
        try:
            cert_der = b64d(params.certificate, "certificate")
            signature = b64d(params.signature, "signature")
        except ContractError as exc:
            raise IssuanceError(RpcErrorCode.INVALID_ARGUMENT, str(exc)) from exc
        fp = cert_fingerprint(cert_der)
        sig_sha = hashlib.sha256(signature).hexdigest()
        if row.state is not SessionState.BEGUN:
            retry = row.state in (SessionState.AUTHENTICATED, SessionState.REFUSED)
            if retry and row.cert_fp == fp and row.auth_sig_sha == sig_sha:  # the same request again
                return self._auth_result(row, language)
            raise IssuanceError(RpcErrorCode.CONFLICT, "this nonce was already used; start again")
        if self.now_ms() > row.expires_ms:
            self.store.set_session_state(row.session_id, (SessionState.BEGUN,), SessionState.EXPIRED)
            raise IssuanceError(RpcErrorCode.PERMISSION_DENIED, "the nonce has expired; start again")
        check = check_authentication(
            cert_der, signature, row.nonce, self.settings.trusted_cas, self.revocation, self.now()
        )
        if check.verdict in (AuthVerdict.MALFORMED, AuthVerdict.UNTRUSTED, AuthVerdict.BAD_SIGNATURE):
            _logger.warning("device %s: authentication rejected (%s)", device_id, check.verdict.value)
            raise IssuanceError(
                RpcErrorCode.PERMISSION_DENIED, f"authentication failed: {check.verdict.value}"
            )
        resident = None
        if check.verdict is AuthVerdict.OK:
            resident = self.registry.resident_for_certificate(check.issuer, check.serial, check.spki_sha256)
        state = SessionState.AUTHENTICATED if resident is not None else SessionState.REFUSED
        rid = resident.resident_id if resident else None
        event = "authenticated" if resident else f"refused:{check.verdict.value}"
        audit = self.audit_entry(device_id, event, "", "", fp)
        if not self.store.finish_authentication(
            row.session_id, state, fp, rid, sig_sha, self.now_ms(), check.verdict.value, audit
        ):
            raise IssuanceError(RpcErrorCode.CONFLICT, "this nonce was already used; start again")
        fresh = self.store.session(row.session_id)
        assert fresh is not None
        return self._auth_result(fresh, language)

    def _auth_result(self, row: SessionRow, language: str) -> AuthenticateResult:
        if row.state is SessionState.REFUSED:
            kind = {
                AuthVerdict.EXPIRED.value: RuleKind.CERTIFICATE_EXPIRED.value,
                AuthVerdict.REVOKED.value: "certificate_revoked",
            }.get(row.verdict or "", "not_resident")
            refusal = refusal_for(self.settings.catalog, kind, language)
            return AuthenticateResult(
                status=AuthStatus.REFUSED, cert_fingerprint=row.cert_fp or "", refusal=refusal
            )
        # The resident's own name for their confirmation screen: the kiosk never reads it from the card.
        resident = self.registry.resident(row.resident_id) if row.resident_id else None
        return AuthenticateResult(
            status=AuthStatus.AUTHENTICATED,
            cert_fingerprint=row.cert_fp or "",
            holder_name=resident.name if resident is not None else "",
        )

    def options(self, device_id: str, session_id: str, language: str = "ja") -> OptionsResult:
        """The types the authenticated resident may have now, and the refused ones with reasons."""
        _, resident = self.live_session(device_id, session_id)
        offers, refused = self.eligibility().evaluate(
            resident, device_id, municipality_of(device_id), self.now(), language
        )
        return OptionsResult(offers=offers, refused=refused)

    def prepare(self, device_id: str, params: PrepareParams) -> PrepareResult:
        """Check a request and render it while the resident pays; returns what to charge."""
        return self.preparer.prepare(device_id, params)

    def open_incident(
        self, device_id: str, kind: IncidentKind, serial: str | None, payment_ref: str | None, detail: str
    ) -> int:
        """Record an incident for staff (and tell `on_incident`); returns its id."""
        incident = self.incidents.open_incident(self.now_ms(), device_id, kind, serial, payment_ref, detail)
        if self.on_incident is not None:
            try:
                self.on_incident(incident)
            except Exception:
                _logger.exception("incident %d: the on_incident hook failed", incident.incident_id)
        return incident.incident_id

    def report_incident(self, device_id: str, params: IncidentParams) -> IncidentResult:
        """`certificate.incident` from a kiosk (a session, if named, must be this device's)."""
        if params.session_id is not None:
            self.own_session(device_id, params.session_id)
        number = self.open_incident(device_id, params.kind, params.serial, params.payment_ref, params.detail)
        return IncidentResult(incident_id=number)

    def issue(self, device_id: str, params: IssueParams, deadline_ms: int | None = None) -> IssueResult:
        """Render and bind the document; a retry in the same session returns the same document."""
        return issue_document(self, device_id, params, deadline_ms)

    def confirm(self, device_id: str, params: ConfirmParams) -> ConfirmResult:
        """Record printed / failed / void; the PDF is wiped unless retention is configured."""
        return confirm_document(self, device_id, params)

    def sweep(self) -> int:
        """Void documents whose reprint window closed without a confirmed print, and documents prepared
        for a session that ended without paying; returns how many."""
        cutoff = self.now_ms() - int(self.settings.session_ttl_s * 1000)
        return sweep_documents(self) + self.preparer.discard_older_than(cutoff)

    def close(self) -> None:
        """Stop background renders and close the incident log."""
        self.preparer.close()
        self.incidents.close()


def _version(text: str) -> tuple[int, ...]:
    """Numeric parts of a version string ("1.10.2rc1" → (1, 10, 2, 1))."""
    return tuple(int(part) for part in re.findall(r"\d+", text)[:4])
