"""Rendering during payment, the paid amount checked against the fee, and incidents for staff (R-12)."""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime

import pytest

from central_broker.cli import main as central_main
from central_broker.issuance.errors import IssuanceError
from central_broker.issuance.incidents import Incident
from central_broker.rpc_server import RpcServer
from device_drivers.card.emulator.personas import persona_by_name
from device_drivers.card.pin import Pin
from madoguchi.contracts.issuance import (
    AuthenticateParams,
    ConfirmOutcome,
    ConfirmParams,
    IncidentKind,
    IssueParams,
    PrepareParams,
    b64e,
)
from madoguchi.contracts.rpc import RpcErrorCode
from tests.fixtures.issuance import IssuanceEnv, KioskFactory, emulated_card

DEVICE = "jp-999999-k60"


def _session(env: IssuanceEnv, device: str = DEVICE) -> str:
    begun = env.service.begin(device)
    with emulated_card(env.ca, persona_by_name("valid-adult")) as card:
        auth = card.authenticate(Pin.from_digits("1234"), base64.b64decode(begun.nonce))
    params = AuthenticateParams(
        session_id=begun.session_id, certificate=b64e(auth.certificate_der), signature=b64e(auth.signature)
    )
    assert env.service.authenticate(device, params).status == "authenticated"
    return begun.session_id


def _fee(env: IssuanceEnv, type_id: str) -> int:
    return env.service.settings.catalog.certificate_type(type_id).fee_for(env.service.now()).amount_yen


def _wait_prepared(env: IssuanceEnv) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pending = list(env.service.preparer._pending.values())
        if pending and all(p.future.done() for p in pending):
            return
        time.sleep(0.02)
    pytest.fail("the prepared document was not rendered")


def _events(env: IssuanceEnv) -> list[tuple[str, str]]:
    """Audit events about documents (those with a serial)."""
    return [(entry.event, entry.serial) for entry in env.store.audit_log() if entry.serial]


def test_the_document_is_rendered_during_payment_and_released_when_paid(issuance_env: IssuanceEnv) -> None:
    """GIVEN a resident who confirmed 2 copies of 住民票 WHEN the kiosk prepares, the resident takes 40 s to
    pay and the kiosk issues with the approved amount THEN prepare names fee × 2, and issue returns the
    document produced before payment (its issue time is the prepare time) — one serial, no second render."""
    env = issuance_env
    session_id = _session(env)
    prepared = env.service.prepare(DEVICE, PrepareParams(session_id=session_id, type_id="juminhyo", copies=2))
    assert (prepared.fee_yen, prepared.total_yen) == (_fee(env, "juminhyo"), 2 * _fee(env, "juminhyo"))
    _wait_prepared(env)
    env.clock.advance(40)  # the resident pays at the terminal
    paid_at = env.service.now()

    result = env.service.issue(
        DEVICE,
        IssueParams(
            session_id=session_id,
            type_id="juminhyo",
            copies=2,
            payment_ref="P-1",
            amount_yen=prepared.total_yen,
        ),
    )

    assert (paid_at - datetime.fromisoformat(result.binding.issued_at)).total_seconds() >= 40
    assert result.copies == 2
    assert _events(env) == [("issued", result.binding.serial)]


def test_a_payment_that_does_not_match_the_fee_issues_nothing_and_opens_an_incident(
    issuance_env: IssuanceEnv,
) -> None:
    """GIVEN a resident charged 200 yen for two copies WHEN the kiosk asks to issue THEN nothing is issued, the
    refusal names both amounts and an incident is opened for staff (and sent to the hook); the correct amount
    then issues."""
    env = issuance_env
    seen: list[Incident] = []
    env.service.on_incident = seen.append
    session_id = _session(env)
    total = 2 * _fee(env, "juminhyo")
    with pytest.raises(IssuanceError) as caught:
        env.service.issue(
            DEVICE,
            IssueParams(
                session_id=session_id, type_id="juminhyo", copies=2, payment_ref="P-2", amount_yen=200
            ),
        )
    assert caught.value.code is RpcErrorCode.INVALID_ARGUMENT
    assert f"paid 200 yen; 2 × {total // 2} yen = {total} yen" in caught.value.message
    assert env.store.document_for_session(session_id) is None
    (incident,) = env.service.incidents.incidents(open_only=True)
    assert (incident.kind, incident.device_id, incident.payment_ref) == (
        IncidentKind.AMOUNT_MISMATCH,
        DEVICE,
        "P-2",
    )
    assert seen == [incident]

    result = env.service.issue(
        DEVICE,
        IssueParams(session_id=session_id, type_id="juminhyo", copies=2, payment_ref="P-2", amount_yen=total),
    )
    assert result.binding.serial


def test_a_changed_choice_or_an_abandoned_payment_voids_the_prepared_document(
    issuance_env: IssuanceEnv,
) -> None:
    """GIVEN a document prepared for 住民票 WHEN the resident goes back and buys 課税証明書 instead THEN the
    課税証明書 is issued and the 住民票's serial is audited void; GIVEN another session prepared and never
    paid WHEN its session time has passed THEN the sweep voids it."""
    env = issuance_env
    session_id = _session(env)
    env.service.prepare(DEVICE, PrepareParams(session_id=session_id, type_id="juminhyo"))
    _wait_prepared(env)
    result = env.service.issue(
        DEVICE,
        IssueParams(session_id=session_id, type_id="kazei", payment_ref="P-3", amount_yen=_fee(env, "kazei")),
    )
    events = _events(env)
    assert ("issued", result.binding.serial) in events
    assert [e for e, serial in events if serial != result.binding.serial] == ["void:replaced"]

    abandoned = _session(env, "jp-999999-k61")
    env.service.prepare("jp-999999-k61", PrepareParams(session_id=abandoned, type_id="juminhyo"))
    _wait_prepared(env)
    env.clock.advance(env.service.settings.session_ttl_s + 1)
    assert env.service.sweep() >= 1
    deadline = time.monotonic() + 5
    while "void:not_issued" not in [e for e, _s in _events(env)] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [e for e, _s in _events(env)].count("void:not_issued") == 1


def test_reprint_after_a_failed_print_and_kiosk_reports_become_incidents_staff_can_close(
    issuance_server: tuple[IssuanceEnv, RpcServer],
    issuance_kiosk: KioskFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """GIVEN a print that failed WHEN the kiosk reprints THEN a print_failed incident names the serial; WHEN a
    kiosk reports an unknown payment over RPC THEN it gets an incident id; `kiosk-central issuance incidents`
    lists both and closes one with staff's note."""
    env, _server = issuance_server
    kiosk = issuance_kiosk("jp-999999-k62")
    session = kiosk.begin()
    with emulated_card(env.ca, persona_by_name("valid-adult")) as card:
        auth = card.authenticate(Pin.from_digits("1234"), session.nonce)
    kiosk.authenticate_with(session, auth.certificate_der, auth.signature)
    document = kiosk.issue(session, "juminhyo", payment_ref="P-4")
    kiosk.confirm(session, document.serial, ConfirmOutcome.FAILED)
    again = kiosk.issue(session, "juminhyo", payment_ref="P-4")
    assert again.reprint and again.serial == document.serial
    number = kiosk.report_incident(
        IncidentKind.PAYMENT_UNKNOWN, payment_ref="P-5", detail="terminal timed out"
    )

    data_dir = env.store.path.parent
    assert central_main(["issuance", "incidents", "--data-dir", str(data_dir), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["kind"], r["serial"], r["payment_ref"]) for r in rows] == [
        ("print_failed", document.serial, "P-4"),
        ("payment_unknown", None, "P-5"),
    ]
    assert rows[1]["incident_id"] == number
    assert (
        central_main(
            [
                "issuance",
                "incidents",
                "--data-dir",
                str(data_dir),
                "--close",
                str(number),
                "--note",
                "refunded",
                "--json",
            ]
        )
        == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert [r["open"] for r in rows] == [True, False] and rows[1]["note"] == "refunded"
    env.service.confirm("jp-999999-k62", ConfirmParams(session_id=session.session_id, serial=document.serial,
                                                      outcome=ConfirmOutcome.PRINTED))  # fmt: skip
