"""Issuance after the card: free reprint after a failed print, void, wiping and encrypted retention,
the audit log, hours, unprintable names, the deadline and refused-authentication retries.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from datetime import timedelta

import pytest

from central_broker.issuance.errors import IssuanceError
from central_broker.issuance.service import IssuanceService
from central_broker.issuance.store import DocState, SessionState
from central_broker.issuance.vault import Vault
from device_drivers.card.emulator.personas import Persona, persona_by_name
from device_drivers.card.pin import Pin
from madoguchi.contracts.issuance import (
    AuthenticateParams,
    ConfirmOutcome,
    ConfirmParams,
    IssueParams,
    IssueResult,
    b64e,
)
from madoguchi.contracts.rpc import RpcErrorCode
from tests.fixtures.issuance import IssuanceEnv, emulated_card, synthetic_resident

DEVICE = "jp-999999-k50"
ADULT = persona_by_name("valid-adult")


def _session(env: IssuanceEnv, persona: Persona = ADULT, device: str = DEVICE) -> str:
    begun = env.service.begin(device)
    nonce = base64.b64decode(begun.nonce)
    with emulated_card(env.ca, persona) as card:
        auth = card.authenticate(Pin.from_digits("1234"), nonce)
    params = AuthenticateParams(
        session_id=begun.session_id, certificate=b64e(auth.certificate_der), signature=b64e(auth.signature)
    )
    assert env.service.authenticate(device, params).status == "authenticated"
    return begun.session_id


def _fee(env: IssuanceEnv, type_id: str, copies: int = 1) -> int:
    """What the catalog charges now."""
    return (
        env.service.settings.catalog.certificate_type(type_id).fee_for(env.service.now()).amount_yen * copies
    )


def _issue(env: IssuanceEnv, session_id: str, ref: str = "PAY-1", device: str = DEVICE) -> IssueResult:
    params = IssueParams(
        session_id=session_id, type_id="juminhyo", payment_ref=ref, amount_yen=_fee(env, "juminhyo")
    )
    return env.service.issue(device, params)


def _confirm(env: IssuanceEnv, session_id: str, serial: str, outcome: ConfirmOutcome) -> str:
    params = ConfirmParams(session_id=session_id, serial=serial, outcome=outcome)
    return env.service.confirm(DEVICE, params).state


def test_failed_print_reprints_same_document_without_paying(issuance_env: IssuanceEnv) -> None:
    """GIVEN a print that failed WHEN the kiosk asks again with the same payment THEN the same document comes back
    marked as a reprint, the reprint is audited, and once printed the stored PDF is wiped."""
    session_id = _session(issuance_env)
    first = _issue(issuance_env, session_id)
    assert _confirm(issuance_env, session_id, first.binding.serial, ConfirmOutcome.FAILED) == "print_failed"
    again = _issue(issuance_env, session_id)
    assert again.reprint
    assert again.binding == first.binding
    assert again.pdf == first.pdf
    assert _confirm(issuance_env, session_id, first.binding.serial, ConfirmOutcome.PRINTED) == "printed"
    document = issuance_env.store.document_for_session(session_id)
    assert document is not None and document.state is DocState.PRINTED and document.blob is None
    events = [e.event for e in issuance_env.store.audit_log() if e.serial == first.binding.serial]
    assert events == ["issued", "failed", "reprint", "printed"]


def test_other_payment_cannot_reuse_session(issuance_env: IssuanceEnv) -> None:
    """GIVEN a session that issued a 住民票 WHEN another type is asked in it THEN it is refused (one document per session)."""
    session_id = _session(issuance_env)
    _issue(issuance_env, session_id)
    with pytest.raises(IssuanceError) as caught:
        issuance_env.service.issue(
            DEVICE,
            IssueParams(
                session_id=session_id,
                type_id="kazei",
                payment_ref="PAY-2",
                amount_yen=_fee(issuance_env, "kazei"),
            ),
        )
    assert caught.value.code is RpcErrorCode.CONFLICT


def test_void_when_nothing_printed(issuance_env: IssuanceEnv) -> None:
    """GIVEN nothing could be printed WHEN the kiosk voids THEN the PDF is wiped and the document cannot come back."""
    session_id = _session(issuance_env)
    result = _issue(issuance_env, session_id)
    assert _confirm(issuance_env, session_id, result.binding.serial, ConfirmOutcome.VOID) == "void"
    document = issuance_env.store.document_for_session(session_id)
    assert document is not None and document.state is DocState.VOID and document.blob is None
    with pytest.raises(IssuanceError):
        _issue(issuance_env, session_id)


def test_reprint_window_closes(issuance_env: IssuanceEnv) -> None:
    """GIVEN a failed print WHEN the reprint window has passed THEN the document is void and not sent again."""
    session_id = _session(issuance_env)
    result = _issue(issuance_env, session_id)
    _confirm(issuance_env, session_id, result.binding.serial, ConfirmOutcome.FAILED)
    issuance_env.clock.advance(601)
    assert issuance_env.service.sweep() == 1
    with pytest.raises(IssuanceError):
        _issue(issuance_env, session_id)
    assert issuance_env.store.session(session_id).state is SessionState.VOID  # type: ignore[union-attr]


def test_kept_documents_are_encrypted_at_rest(issuance_env: IssuanceEnv) -> None:
    """GIVEN retention configured WHEN a document is printed THEN it is kept, encrypted, readable with the key."""
    vault = Vault.from_text(Vault.new_key_text())
    env = issuance_env
    settings = type(env.service.settings)(**{**env.service.settings.__dict__, "keep_documents": True})
    env.service = IssuanceService(
        settings, env.store, env.registry, env.service.revocation, vault, clock=env.clock
    )
    session_id = _session(env)
    result = _issue(env, session_id)
    _confirm(env, session_id, result.binding.serial, ConfirmOutcome.PRINTED)
    document = env.store.document_for_session(session_id)
    assert document is not None and document.blob is not None
    assert b"%PDF" not in document.blob
    plain = vault.open(document.serial, document.blob)
    assert plain is not None and hashlib.sha256(plain).hexdigest() == result.binding.pdf_sha256


def test_audit_log_has_no_personal_data(issuance_env: IssuanceEnv) -> None:
    """GIVEN two documents for one card WHEN the audit log is read THEN it holds device, time, type, serial and
    the same keyed card hash — no name, address or certificate."""
    rare = persona_by_name("rare-kanji")
    for _ in range(2):
        session_id = _session(issuance_env, rare)
        result = _issue(issuance_env, session_id)
        _confirm(issuance_env, session_id, result.binding.serial, ConfirmOutcome.PRINTED)
    issued = [e for e in issuance_env.store.audit_log() if e.event == "issued"]
    assert len(issued) == 2 and issued[0].cert_hmac == issued[1].cert_hmac
    assert issued[0].device_id == DEVICE and issued[0].type_id == "juminhyo"
    fingerprint = hashlib.sha256(issuance_env.ca.material(rare).auth_cert).hexdigest()
    text = repr(issuance_env.store.audit_log())
    for secret in (rare.full_name, rare.address, "𠮷", fingerprint):
        assert secret not in text


def test_family_register_outside_office_hours_is_refused_with_hours(issuance_env: IssuanceEnv) -> None:
    """GIVEN a Sunday WHEN options are asked THEN 戸籍 is refused with its office hours while 住民票 is offered."""
    issuance_env.clock.advance(timedelta(days=5).total_seconds() - 60)  # Tuesday 10:00 → Sunday 9:59
    session_id = _session(issuance_env)
    options = issuance_env.service.options(DEVICE, session_id)
    refused = {r.type_id: r for r in options.refused}
    assert refused["koseki_zenbu"].kind == "outside_hours"
    assert "8:30" in refused["koseki_zenbu"].reason or "8時30分" in refused["koseki_zenbu"].reason
    assert "juminhyo" in {o.type_id for o in options.offers}


def test_session_expires_after_its_lifetime(issuance_env: IssuanceEnv) -> None:
    """GIVEN an authenticated session left alone for over 10 minutes WHEN used THEN it is refused."""
    session_id = _session(issuance_env)
    issuance_env.clock.advance(601)
    with pytest.raises(IssuanceError) as caught:
        issuance_env.service.options(DEVICE, session_id)
    assert caught.value.code is RpcErrorCode.PERMISSION_DENIED


def test_name_outside_font_refused_before_payment(issuance_env: IssuanceEnv) -> None:
    """GIVEN a resident whose name has a 外字 no installed font draws WHEN options are asked THEN every type is
    refused as name_outside_font with where to go."""
    persona = synthetic_resident(issuance_env, 950, "\ue000田 太郎")
    options = issuance_env.service.options(DEVICE, _session(issuance_env, persona))
    assert options.offers == []
    kinds = {r.kind for r in options.refused if r.type_id != "fuhyo"}
    assert kinds == {"name_outside_font"}
    assert all(r.where_to_go for r in options.refused)


def test_render_after_deadline_issues_nothing(issuance_env: IssuanceEnv) -> None:
    """GIVEN a request whose deadline passes during rendering WHEN it ends THEN nothing is stored or sent, and a
    retry in the same session still works."""
    session_id = _session(issuance_env)
    params = IssueParams(
        session_id=session_id,
        type_id="juminhyo",
        payment_ref="PAY-1",
        amount_yen=_fee(issuance_env, "juminhyo"),
    )
    with pytest.raises(IssuanceError) as caught:
        issuance_env.service.issue(DEVICE, params, deadline_ms=int(issuance_env.clock() * 1000))
    assert caught.value.code is RpcErrorCode.DEADLINE_EXCEEDED
    assert issuance_env.store.document_for_session(session_id) is None
    assert _issue(issuance_env, session_id).binding.serial


def test_refused_authentication_retry_gives_same_reason(issuance_env: IssuanceEnv) -> None:
    """GIVEN an expired certificate refused once WHEN the identical request is retried THEN the same reason comes
    back; a card of nobody in this city's registry is refused as not_resident."""
    expired = persona_by_name("expired-cert")
    begun = issuance_env.service.begin(DEVICE)
    with emulated_card(issuance_env.ca, expired) as card:
        auth = card.authenticate(Pin.from_digits("1234"), base64.b64decode(begun.nonce))
    params = AuthenticateParams(
        session_id=begun.session_id, certificate=b64e(auth.certificate_der), signature=b64e(auth.signature)
    )
    first = issuance_env.service.authenticate(DEVICE, params)
    again = issuance_env.service.authenticate(DEVICE, params)
    assert first.refusal is not None and again.refusal is not None
    assert first.refusal.kind == again.refusal.kind == "certificate_expired"
    stranger = dataclasses.replace(ADULT, name="stranger", my_number="999999999991")
    begun = issuance_env.service.begin(DEVICE)
    with emulated_card(issuance_env.ca, stranger) as card:
        auth = card.authenticate(Pin.from_digits("1234"), base64.b64decode(begun.nonce))
    params = AuthenticateParams(
        session_id=begun.session_id, certificate=b64e(auth.certificate_der), signature=b64e(auth.signature)
    )
    result = issuance_env.service.authenticate(DEVICE, params)
    assert result.refusal is not None and result.refusal.kind == "not_resident"
