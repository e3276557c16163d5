"""Producing a document: the checks before rendering, the render itself, and rendering ahead of payment.

`certificate.prepare` is called by the kiosk when the resident confirms the fee summary, before the
payment terminal starts: the checks run at once (a refusal then costs no payment), the amount to
charge is returned, and the PDF is rendered in the background while the resident pays. The
following `certificate.issue` for the same session, type, choices and copies releases that document
instead of rendering again, so the resident does not wait for the render after paying. A prepared
document that is never issued (cancel, payment declined, another choice) is thrown away and its
serial audited as void; prepared PDFs live only in memory. The issue time printed is when the
document was produced (seconds before payment).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from central_broker.issuance.bound_pdf import BoundCertificate
from central_broker.issuance.checkcode import new_code
from central_broker.issuance.documents import build_certificate, render
from central_broker.issuance.eligibility import refusal_for, type_refusal
from central_broker.issuance.errors import IssuanceError
from central_broker.issuance.registry import Resident
from central_broker.issuance.store import SessionRow
from madoguchi.certificates.errors import GlyphMissing
from madoguchi.certificates.models import CertificateMeta
from madoguchi.contracts.base import municipality_of
from madoguchi.contracts.catalog import CatalogLookupError
from madoguchi.contracts.catalog_base import NoFeeInForce, local_time
from madoguchi.contracts.catalog_certs import CertificateType
from madoguchi.contracts.catalog_rules import RuleKind
from madoguchi.contracts.issuance import Binding, PrepareParams, PrepareResult, sign_binding
from madoguchi.contracts.rpc import RpcErrorCode

if TYPE_CHECKING:
    from central_broker.issuance.service import IssuanceService

__all__ = ["Checked", "Preparer", "Produced", "check_request", "produce"]

_logger = logging.getLogger(__name__)

RequestKey = tuple[str, str, tuple[tuple[str, str], ...], int]


@dataclass(frozen=True, repr=False)
class Checked:
    """A request that passed every check: whose, which type, and what it costs."""

    row: SessionRow
    resident: Resident
    cert: CertificateType
    choices: dict[str, str]
    copies: int
    fee_yen: int

    @property
    def total_yen(self) -> int:
        """Fee in force × copies."""
        return self.fee_yen * self.copies

    @property
    def key(self) -> RequestKey:
        """Identifies the request (a prepared document is released only for the same key)."""
        return (self.row.session_id, self.cert.id, tuple(sorted(self.choices.items())), self.copies)


@dataclass(frozen=True, repr=False)
class Produced:
    """A rendered, bound document not yet handed out, with what the online check stores about it.

    `code_hmac` and `holder_hmac` are keyed hashes of the printed verification code and of the holder's
    name and birth date (`CheckKeys`); the code itself is kept nowhere but on the paper.
    """

    serial: str
    issued_at: datetime
    rendered: BoundCertificate
    binding: Binding
    binding_sig: str
    code_hmac: str
    holder_hmac: str


def check_request(
    svc: IssuanceService,
    device_id: str,
    session_id: str,
    type_id: str,
    choices: dict[str, str],
    copies: int,
    language: str,
) -> Checked:
    """Session, type, eligibility now, choices, copies and fee; raise `IssuanceError` on the first problem."""
    row, resident = svc.live_session(device_id, session_id)
    catalog = svc.settings.catalog
    try:
        cert = catalog.certificate_type(type_id)
    except CatalogLookupError as exc:
        raise IssuanceError(RpcErrorCode.INVALID_ARGUMENT, f"unknown certificate type {type_id!r}") from exc
    now = svc.now()
    refusal = type_refusal(
        svc.eligibility(), cert, resident, device_id, municipality_of(device_id), now, language
    )
    if refusal is not None:
        raise IssuanceError(RpcErrorCode.PERMISSION_DENIED, f"{refusal.kind}: {refusal.reason}")
    if copies > cert.max_copies:
        raise IssuanceError(
            RpcErrorCode.INVALID_ARGUMENT, f"at most {cert.max_copies} copies of {cert.id} per request"
        )
    for option, choice in choices.items():
        try:
            cert.option(option).choice(choice)
        except ValueError as exc:
            raise IssuanceError(RpcErrorCode.INVALID_ARGUMENT, str(exc)) from exc
    try:
        fee = cert.fee_for(now).amount_yen
    except NoFeeInForce as exc:
        raise IssuanceError(RpcErrorCode.PERMISSION_DENIED, f"{cert.id} has no fee in force now") from exc
    return Checked(row, resident, cert, dict(choices), copies, fee)


def produce(svc: IssuanceService, device_id: str, checked: Checked, language: str) -> Produced:
    """Allocate the serial, render the PDF with seal and signed QR, and bind it to the session."""
    catalog = svc.settings.catalog
    row, cert = checked.row, checked.cert
    issued_at = local_time(svc.now()).replace(microsecond=0)
    serial = svc.store.next_serial(catalog.municipality.code, f"{issued_at:%Y%m%d}")
    meta = CertificateMeta(
        serial, issued_at, catalog.municipality.names.text("ja"), svc.settings.mayor, device_id
    )
    household = svc.registry.household(checked.resident)
    code = new_code()
    try:
        model = build_certificate(cert, checked.resident, household, checked.choices, meta)
        rendered = render(model, svc.settings.signing_key, code, svc.settings.verify_url, svc.render_pool)
    except GlyphMissing as exc:
        svc.store.audit(svc.audit_entry(device_id, "void:unprintable", cert.id, serial, row.cert_fp))
        reason = refusal_for(catalog, RuleKind.NAME_OUTSIDE_FONT.value, language, cert.id)
        raise IssuanceError(RpcErrorCode.PERMISSION_DENIED, f"{reason.kind}: {reason.reason}") from exc
    binding = Binding(
        session_id=row.session_id,
        nonce_sha256=hashlib.sha256(row.nonce).hexdigest(),
        cert_fingerprint=row.cert_fp or "",
        device_id=device_id,
        serial=serial,
        pdf_sha256=hashlib.sha256(rendered.pdf).hexdigest(),
        issued_at=issued_at.isoformat(timespec="seconds"),
    )
    resident = checked.resident
    return Produced(
        serial,
        issued_at,
        rendered,
        binding,
        sign_binding(binding, svc.settings.signing_key),
        code_hmac=svc.check_keys.code(serial, code),
        holder_hmac=svc.check_keys.holder(serial, resident.name, resident.birth_date),
    )


@dataclass(repr=False)
class _Pending:
    key: RequestKey
    device_id: str
    cert_id: str
    cert_fp: str | None
    future: Future[Produced]
    created_ms: int


class Preparer:
    """Documents rendered ahead of payment, at most one per session, in memory only."""

    def __init__(self, svc: IssuanceService, threads: int = 4) -> None:
        self._svc = svc
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="prepare")
        self._lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}

    def prepare(self, device_id: str, params: PrepareParams) -> PrepareResult:
        """Check the request, start rendering it, and say what to charge."""
        checked = check_request(
            self._svc,
            device_id,
            params.session_id,
            params.type_id,
            params.choices,
            params.copies,
            params.language,
        )
        with self._lock:
            current = self._pending.get(params.session_id)
            if current is None or current.key != checked.key:
                if current is not None:
                    self._void(current, "void:replaced")
                future = self._executor.submit(produce, self._svc, device_id, checked, params.language)
                self._pending[params.session_id] = _Pending(
                    checked.key, device_id, checked.cert.id, checked.row.cert_fp, future, self._svc.now_ms()
                )
        return PrepareResult(total_yen=checked.total_yen, fee_yen=checked.fee_yen, copies=checked.copies)

    def take(self, checked: Checked, timeout_s: float) -> Produced | None:
        """The document prepared for exactly this request (waiting for its render), or None."""
        with self._lock:
            pending = self._pending.get(checked.row.session_id)
            if pending is None:
                return None
            if pending.key != checked.key:
                self._void(self._pending.pop(checked.row.session_id), "void:replaced")
                return None
            del self._pending[checked.row.session_id]
        try:
            return pending.future.result(timeout=timeout_s)
        except IssuanceError:
            raise
        except Exception:
            _logger.exception("prepared render for a %s failed; rendering again", pending.cert_id)
            return None

    def discard_older_than(self, cutoff_ms: int) -> int:
        """Throw away documents prepared before `cutoff_ms` and never issued; returns how many."""
        with self._lock:
            stale = [sid for sid, p in self._pending.items() if p.created_ms < cutoff_ms]
            for session_id in stale:
                self._void(self._pending.pop(session_id), "void:not_issued")
        return len(stale)

    def _void(self, pending: _Pending, event: str) -> None:
        def audit(future: Future[Produced]) -> None:
            if future.exception() is None:
                produced = future.result()
                self._svc.store.audit(
                    self._svc.audit_entry(
                        pending.device_id, event, pending.cert_id, produced.serial, pending.cert_fp
                    )
                )

        pending.future.add_done_callback(audit)

    def close(self) -> None:
        """Stop the background renders."""
        self._executor.shutdown(wait=True, cancel_futures=True)
