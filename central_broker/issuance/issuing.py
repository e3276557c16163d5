"""Issuing and after: render and bind the document, free reprint after a failed print, confirm, void, sweep.

A render that ends after the request's deadline is thrown away whole (Yokohama 2023): nothing is
stored or sent, and the serial is audited as void. The stored PDF is encrypted (`Vault`) and wiped
on confirmation unless retention is configured.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from central_broker.issuance.errors import IssuanceError
from central_broker.issuance.producing import check_request, produce
from central_broker.issuance.store import (
    DocState,
    DocumentRow,
    SessionRow,
    SessionState,
)
from central_broker.issuance.unissued import UnissuedSlip, iso_utc, sign_unissued
from madoguchi.contracts.issuance import (
    Binding,
    ConfirmOutcome,
    ConfirmParams,
    ConfirmResult,
    IncidentKind,
    IssueParams,
    IssueResult,
    b64e,
)
from madoguchi.contracts.rpc import RpcErrorCode

if TYPE_CHECKING:
    from central_broker.issuance.service import IssuanceService

__all__ = ["confirm_document", "existing_document", "issue_document", "sweep_documents", "void_document"]

_logger = logging.getLogger(__name__)


def issue_document(
    svc: IssuanceService, device_id: str, params: IssueParams, deadline_ms: int | None = None
) -> IssueResult:
    """Release the document prepared during payment (or render it now) and bind it to the session.

    A retry in the same session returns the same document. The paid amount must equal the fee in
    force × copies; a mismatch issues nothing and opens an incident (R-12).
    """
    row = svc.own_session(device_id, params.session_id)
    if row.state in (SessionState.ISSUED, SessionState.PRINT_FAILED):
        return existing_document(svc, row, params)
    checked = check_request(
        svc, device_id, params.session_id, params.type_id, params.choices, params.copies, params.language
    )
    if params.amount_yen != checked.total_yen:
        detail = (
            f"paid {params.amount_yen} yen; {checked.copies} × {checked.fee_yen} yen = {checked.total_yen} yen "
            f"for {checked.cert.id}"
        )
        incident = svc.open_incident(
            device_id, IncidentKind.AMOUNT_MISMATCH, None, params.payment_ref, detail
        )
        raise IssuanceError(
            RpcErrorCode.INVALID_ARGUMENT,
            f"{detail}: nothing issued; staff must refund or settle the payment (incident {incident})",
        )
    timeout_s = 30.0 if deadline_ms is None else max(0.0, (deadline_ms - svc.now_ms()) / 1000)
    produced = svc.preparer.take(checked, timeout_s) or produce(svc, device_id, checked, params.language)
    cert, serial = checked.cert, produced.serial
    if deadline_ms is not None and svc.now_ms() > deadline_ms:
        svc.store.audit(svc.audit_entry(device_id, "void:deadline", cert.id, serial, row.cert_fp))
        raise IssuanceError(
            RpcErrorCode.DEADLINE_EXCEEDED, "rendering ended after the deadline; nothing issued"
        )
    rendered = produced.rendered
    doc = DocumentRow(
        serial=serial,
        session_id=row.session_id,
        device_id=device_id,
        type_id=cert.id,
        payment_ref=params.payment_ref,
        copies=params.copies,
        state=DocState.ISSUED,
        issued_ms=svc.now_ms(),
        reprint_until_ms=svc.now_ms() + int(svc.settings.reprint_window_s * 1000),
        reprints=0,
        binding_json=produced.binding.model_dump_json(),
        binding_sig=produced.binding_sig,
        qr=rendered.qr_payload,
        blob=svc.vault.seal(serial, rendered.pdf),
        code_hmac=produced.code_hmac,
        holder_hmac=produced.holder_hmac,
        content_digest=rendered.content_digest,
    )
    if not svc.store.store_document(doc, svc.audit_entry(device_id, "issued", cert.id, serial, row.cert_fp)):
        svc.store.audit(svc.audit_entry(device_id, "void:duplicate", cert.id, serial, row.cert_fp))
        fresh = svc.own_session(device_id, params.session_id)
        if fresh.state in (SessionState.ISSUED, SessionState.PRINT_FAILED):
            return existing_document(svc, fresh, params)
        raise IssuanceError(RpcErrorCode.CONFLICT, f"the session is {fresh.state.value}; start again")
    _logger.info("device %s: issued %s (%s)", device_id, serial, cert.id)
    return IssueResult(
        binding=produced.binding,
        binding_sig=produced.binding_sig,
        pdf=b64e(rendered.pdf),
        copies=params.copies,
        qr=rendered.qr_payload,
    )


def existing_document(svc: IssuanceService, row: SessionRow, params: IssueParams) -> IssueResult:
    """The session's document again: a retry, or a free reprint after a failed print."""
    doc = svc.store.document_for_session(row.session_id)
    if doc is None or doc.type_id != params.type_id or doc.payment_ref != params.payment_ref:
        raise IssuanceError(RpcErrorCode.CONFLICT, "this session already issued another document")
    if doc.reprint_until_ms is not None and svc.now_ms() > doc.reprint_until_ms:
        void_document(svc, doc, "void:window")
        raise IssuanceError(RpcErrorCode.CONFLICT, "the reprint window has closed; the document is void")
    pdf = svc.vault.open(doc.serial, doc.blob) if doc.blob else None
    if pdf is None:
        void_document(svc, doc, "void:unreadable")
        raise IssuanceError(RpcErrorCode.CONFLICT, "the document can no longer be sent; it is void")
    reprint = doc.state is DocState.PRINT_FAILED
    if reprint:  # the print_failed incident was opened when the failure was confirmed
        audit = svc.audit_entry(row.device_id, "reprint", doc.type_id, doc.serial, row.cert_fp)
        svc.store.update_document(
            doc.serial,
            (DocState.PRINT_FAILED,),
            DocState.ISSUED,
            SessionState.ISSUED,
            audit,
            count_reprint=True,
        )
    return IssueResult(
        binding=Binding.model_validate_json(doc.binding_json),
        binding_sig=doc.binding_sig,
        pdf=b64e(pdf),
        copies=doc.copies,
        qr=doc.qr,
        reprint=reprint,
    )


def confirm_document(svc: IssuanceService, device_id: str, params: ConfirmParams) -> ConfirmResult:
    """Record printed / failed / void; the PDF is wiped unless retention is configured."""
    row = svc.own_session(device_id, params.session_id)
    doc = svc.store.document_for_session(row.session_id)
    if doc is None or doc.serial != params.serial:
        raise IssuanceError(RpcErrorCode.NOT_FOUND, "no such document in this session")
    audit = svc.audit_entry(device_id, params.outcome.value, doc.type_id, doc.serial, row.cert_fp)
    if params.outcome is ConfirmOutcome.PRINTED:
        ok = svc.store.update_document(
            doc.serial, (DocState.ISSUED,), DocState.PRINTED, SessionState.PRINTED, audit,
            wipe=not svc.settings.keep_documents,
        )  # fmt: skip
        state, until = SessionState.PRINTED, None
    elif params.outcome is ConfirmOutcome.FAILED:
        until = svc.now_ms() + int(svc.settings.reprint_window_s * 1000)
        ok = svc.store.update_document(
            doc.serial, (DocState.ISSUED,), DocState.PRINT_FAILED, SessionState.PRINT_FAILED, audit,
            reprint_until_ms=until,
        )  # fmt: skip
        state = SessionState.PRINT_FAILED
        if ok:
            return _print_failed(svc, device_id, doc, until)
    else:
        ok = svc.store.update_document(
            doc.serial,
            (DocState.ISSUED, DocState.PRINT_FAILED),
            DocState.VOID,
            SessionState.VOID,
            audit,
            wipe=True,
        )
        state, until = SessionState.VOID, None
    if not ok:
        current = svc.store.document_for_session(row.session_id)
        if current is not None and current.state.value == state.value:  # a retry
            slip = None
            if current.state is DocState.PRINT_FAILED and current.reprint_until_ms is not None:
                slip = _slip(svc, current, svc.now_ms(), current.reprint_until_ms)
            return ConfirmResult(
                state=state.value, reprint_until=current.reprint_until_ms, unissued_slip=slip
            )
        raise IssuanceError(
            RpcErrorCode.CONFLICT, f"the document is {current.state.value if current else '?'}"
        )
    return ConfirmResult(state=state.value, reprint_until=until)


def _slip(svc: IssuanceService, doc: DocumentRow, failed_ms: int, until_ms: int) -> str:
    slip = UnissuedSlip(
        doc.serial,
        doc.device_id,
        doc.type_id,
        doc.copies,
        doc.payment_ref,
        iso_utc(failed_ms),
        iso_utc(until_ms),
    )
    return sign_unissued(slip, svc.settings.signing_key)


def _print_failed(svc: IssuanceService, device_id: str, doc: DocumentRow, until_ms: int) -> ConfirmResult:
    """A paid document failed to print: open an incident (R-12, R-15) and hand back a signed 未交付 slip."""
    svc.open_incident(
        device_id,
        IncidentKind.PRINT_FAILED,
        doc.serial,
        doc.payment_ref,
        "print failed after payment; 未交付 slip issued (free reprint)",
    )
    return ConfirmResult(
        state=SessionState.PRINT_FAILED.value,
        reprint_until=until_ms,
        unissued_slip=_slip(svc, doc, svc.now_ms(), until_ms),
    )


def void_document(svc: IssuanceService, doc: DocumentRow, event: str) -> None:
    session = svc.store.session(doc.session_id)
    audit = svc.audit_entry(
        doc.device_id, event, doc.type_id, doc.serial, session.cert_fp if session else None
    )
    svc.store.update_document(
        doc.serial,
        (DocState.ISSUED, DocState.PRINT_FAILED),
        DocState.VOID,
        SessionState.VOID,
        audit,
        wipe=True,
    )


def sweep_documents(svc: IssuanceService) -> int:
    """Void documents whose reprint window closed without a confirmed print; returns how many."""
    stale = svc.store.stale_documents(svc.now_ms())
    for doc in stale:
        void_document(svc, doc, "void:window")
    return len(stale)
