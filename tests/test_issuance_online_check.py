"""The public online check (`/verify`, `/api/verify`) through the real web app on the real issuance store:
answers by serial + printed verification code, never with personal data, rate limited with a clear 429."""

from __future__ import annotations

import base64
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from fastapi.testclient import TestClient

from central_broker.issuance.checkcode import CheckKeys
from central_broker.issuance.hosting import issuance_dir
from central_broker.issuance.online import OnlineCheck
from central_broker.issuance.qrcheck import check_pdf
from central_broker.issuance.registry import Resident
from central_broker.store import FleetStore
from central_broker.web import WebContext, create_app, open_web_context
from central_broker.web.ratelimit import Limit, VerifyGate
from device_drivers.card.emulator.personas import persona_by_name
from madoguchi.certificates.layout import wareki
from madoguchi.clock import SteppableClock
from madoguchi.config.central import local_central_config
from madoguchi.config.issuance import IssuanceConfig
from madoguchi.contracts.issuance import (
    ConfirmOutcome,
    ConfirmParams,
    IssueParams,
)
from tests.fixtures.issuance import IssuanceEnv, authenticate_in_service

DEVICE = "jp-999999-k62"
_CODE = re.compile(r"照合番号 (\d{4}-\d{4}-\d{4}-\d{4})")


@dataclass
class Printed:
    """An issued certificate as its reader has it: serial, printed code, PDF; and whose it is."""

    serial: str
    code: str
    pdf: Path
    session_id: str
    resident: Resident


@pytest.fixture
def online(web_context: WebContext, issuance_env: IssuanceEnv) -> Iterator[TestClient]:
    """The web app with the online check on the issuance env's store (not signed in, English)."""
    web_context.online_check = OnlineCheck(
        issuance_env.store, issuance_env.service.check_keys, issuance_env.clock
    )
    with TestClient(create_app(web_context)) as client:
        client.cookies.set("mdg_lang", "en")
        yield client


def issue_printed(
    env: IssuanceEnv, tmp_path: Path, outcome: ConfirmOutcome | None = ConfirmOutcome.PRINTED
) -> Printed:
    """A 住民票 issued to the valid-adult persona, confirmed with `outcome` (None: not confirmed yet)."""
    session_id = authenticate_in_service(env, DEVICE, persona_by_name("valid-adult"))
    fee = env.service.settings.catalog.certificate_type("juminhyo").fee_for(env.service.now()).amount_yen
    issued = env.service.issue(
        DEVICE, IssueParams(session_id=session_id, type_id="juminhyo", payment_ref="P", amount_yen=fee)
    )
    serial = issued.binding.serial
    if outcome is not None:
        env.service.confirm(DEVICE, ConfirmParams(session_id=session_id, serial=serial, outcome=outcome))
    pdf = tmp_path / f"{serial}.pdf"
    pdf.write_bytes(base64.b64decode(issued.pdf))
    text = subprocess.run(
        ["pdftotext", "-raw", str(pdf), "-"], capture_output=True, check=True
    ).stdout.decode()
    match = _CODE.search(text)
    assert match, "the certificate shows no verification code"
    session = env.store.session(session_id)
    resident = env.registry.resident(session.resident_id) if session and session.resident_id else None
    assert resident is not None
    return Printed(serial, match.group(1), pdf, session_id, resident)


def _personal(resident: Resident) -> list[str]:
    day = resident.birth_date
    return [
        resident.name,
        resident.name.replace(" ", ""),
        resident.kana,
        resident.address,
        day.isoformat(),
        wareki(day.year, day.month, day.day),
        persona_by_name("valid-adult").my_number,
    ]


def test_a_printed_certificate_is_genuine_online_and_the_answer_has_no_personal_data(
    online: TestClient, issuance_env: IssuanceEnv, tmp_path: Path
) -> None:
    """GIVEN a printed 住民票 WHEN anyone (not signed in) checks its serial and printed code THEN the answer is
    genuine with type, issue time and the content digest the PDF's QR code signs — and no name, kana, address,
    birth date or My Number, in the JSON or on the page."""
    printed = issue_printed(issuance_env, tmp_path)
    response = online.post("/api/verify", json={"serial": printed.serial, "code": printed.code})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "genuine"
    assert answer["type_id"] == "juminhyo"
    assert answer["issued_at"].startswith(printed.serial.split("-")[1][:4])
    assert (
        answer["content_digest"]
        == check_pdf(printed.pdf, issuance_env.signing_key.public_key()).claims.content_digest
    )
    page = online.post("/verify", data={"serial": printed.serial, "code": printed.code.replace("-", " ")})
    assert page.status_code == 200
    assert "Genuine" in page.text and 'data-status="genuine"' in page.text
    for personal in _personal(printed.resident):
        assert personal not in response.text
        assert personal not in page.text
    assert printed.code not in page.text  # the code is not shown back either


def test_the_page_is_public_and_japanese_by_default(
    online: TestClient, issuance_env: IssuanceEnv, tmp_path: Path
) -> None:
    """GIVEN no sign-in and no language choice WHEN the check page is opened and used THEN it answers in Japanese."""
    printed = issue_printed(issuance_env, tmp_path)
    online.cookies.delete("mdg_lang")
    assert online.get("/verify", follow_redirects=False).status_code == 200
    page = online.post("/verify", data={"serial": printed.serial, "code": printed.code})
    assert "真正" in page.text and "この証明書は市が発行し、交付したものです。" in page.text


def test_a_wrong_code_and_an_unknown_serial_get_the_same_not_found_and_are_journaled(
    online: TestClient, issuance_env: IssuanceEnv, tmp_path: Path
) -> None:
    """GIVEN a printed certificate WHEN its serial is checked with another code, or an unknown serial is checked
    THEN both are "not found" with nothing else; the wrong code is in the audit log under the serial."""
    printed = issue_printed(issuance_env, tmp_path)
    wrong = "0000-0000-0000-0000" if printed.code != "0000-0000-0000-0000" else "1111-1111-1111-1111"
    guessed = online.post("/api/verify", json={"serial": printed.serial, "code": wrong}).json()
    unknown_serial = printed.serial[:-6] + "999999"
    unknown = online.post("/api/verify", json={"serial": unknown_serial, "code": printed.code}).json()
    assert guessed == {**unknown, "serial": printed.serial}
    assert guessed["status"] == "not_found" and guessed["type_id"] is None and guessed["issued_at"] is None
    events = [(a.event, a.serial) for a in issuance_env.store.audit_log()]
    assert ("online_check:wrong_code", printed.serial) in events
    online.post("/api/verify", json={"serial": printed.serial, "code": printed.code})
    assert ("online_check:genuine", printed.serial) in [
        (a.event, a.serial) for a in issuance_env.store.audit_log()
    ]


def test_pending_voided_and_expired_certificates_are_told_apart(
    online: TestClient, issuance_env: IssuanceEnv, tmp_path: Path
) -> None:
    """GIVEN one certificate not yet confirmed printed and one voided WHEN checked THEN "pending" and "voided";
    WHEN the printed one is checked after the answer period THEN "expired"."""
    pending = issue_printed(issuance_env, tmp_path, outcome=None)
    assert (
        online.post("/api/verify", json={"serial": pending.serial, "code": pending.code}).json()["status"]
        == "pending"
    )
    voided = issue_printed(issuance_env, tmp_path, outcome=ConfirmOutcome.VOID)
    answer = online.post("/api/verify", json={"serial": voided.serial, "code": voided.code}).json()
    assert answer["status"] == "voided" and answer["type_id"] == "juminhyo"
    page = online.post("/verify", data={"serial": voided.serial, "code": voided.code})
    assert "Do not accept it." in page.text
    printed = issue_printed(issuance_env, tmp_path)
    issuance_env.clock.advance(366 * 86_400)
    answer = online.post("/api/verify", json={"serial": printed.serial, "code": printed.code}).json()
    assert answer["status"] == "expired"


def test_the_holder_matches_only_with_the_printed_name_and_birth_date(
    online: TestClient, issuance_env: IssuanceEnv, tmp_path: Path
) -> None:
    """GIVEN a printed certificate WHEN the reader adds the holder's name (typed with a full-width space) and
    birth date THEN they match; WHEN the name or the birth date is another THEN they do not — and the answer
    never repeats them."""
    printed = issue_printed(issuance_env, tmp_path)
    name, born = printed.resident.name, printed.resident.birth_date.isoformat()
    base = {"serial": printed.serial, "code": printed.code}
    same = online.post("/api/verify", json={**base, "name": name.replace(" ", "\u3000"), "birth_date": born})
    assert same.json()["holder_matches"] is True
    assert name not in same.text and born not in same.text
    other_name = online.post("/api/verify", json={**base, "name": "偽造 太郎", "birth_date": born}).json()
    assert other_name["status"] == "genuine" and other_name["holder_matches"] is False
    other_day = online.post("/verify", data={**base, "name": name, "birth_date": "1970-01-02"})
    assert 'id="holder-match"' in other_day.text and "are NOT the ones" in other_day.text


def test_bad_input_says_what_is_expected(online: TestClient) -> None:
    """GIVEN a malformed serial, a short code, or a name without a birth date WHEN checked THEN 400 saying the
    expected form."""
    code = "1234-5678-9012-3456"
    bad_serial = online.post("/api/verify", json={"serial": "12345", "code": code})
    assert bad_serial.status_code == 400 and "131016-20260401-000123" in bad_serial.json()["error"]
    short = online.post("/verify", data={"serial": "999999-20260401-000001", "code": "1234"})
    assert short.status_code == 400 and "16 digits" in short.text
    half = online.post(
        "/api/verify", json={"serial": "999999-20260401-000001", "code": code, "name": "窓口 花子"}
    )
    assert half.status_code == 400 and "both" in half.json()["error"]


def test_too_many_checks_from_one_client_get_429_with_how_long_to_wait(
    online: TestClient,
    web_context: WebContext,
    store_clock: SteppableClock,
    issuance_env: IssuanceEnv,
    tmp_path: Path,
) -> None:
    """GIVEN a client that made 10 checks in a minute WHEN it checks again THEN 429 with Retry-After and a message
    saying to wait; another client is still answered; a minute later the first one is answered again."""
    printed = issue_printed(issuance_env, tmp_path)
    web_context.verify_gate = VerifyGate(store_clock, client=Limit(10, 60), serial=Limit(100, 3600))
    body = {"serial": printed.serial, "code": printed.code}
    for _ in range(10):
        assert online.post("/api/verify", json=body).status_code == 200
    refused = online.post("/api/verify", json=body)
    assert refused.status_code == 429
    assert refused.json()["error"] == "Too many checks from your connection."
    assert refused.json()["hint"] == "Wait 1 min and try again."
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    page = online.post("/verify", data=body)
    assert page.status_code == 429 and "Too many checks from your connection." in page.text
    with TestClient(create_app(web_context), client=("203.0.113.7", 40000)) as other:
        assert other.post("/api/verify", json=body).json()["status"] == "genuine"
    store_clock.advance(61)
    assert online.post("/api/verify", json=body).json()["status"] == "genuine"


def test_one_serial_checked_too_often_and_the_whole_service_are_limited(
    online: TestClient,
    web_context: WebContext,
    store_clock: SteppableClock,
    issuance_env: IssuanceEnv,
    tmp_path: Path,
) -> None:
    """GIVEN the per-serial limit WHEN one serial is checked a sixth time within the hour (guessing its code or a
    birth date) THEN 429 for that serial only; GIVEN the overall limit WHEN reached THEN 429 "busy" for anyone."""
    first, second = issue_printed(issuance_env, tmp_path), issue_printed(issuance_env, tmp_path)
    web_context.verify_gate = VerifyGate(store_clock, client=Limit(1000, 60), serial=Limit(5, 3600))
    for _ in range(5):
        online.post("/api/verify", json={"serial": first.serial, "code": "0000-0000-0000-0000"})
    refused = online.post("/api/verify", json={"serial": first.serial, "code": first.code})
    assert (
        refused.status_code == 429
        and refused.json()["error"] == "This certificate number was checked too often."
    )
    assert (
        online.post("/api/verify", json={"serial": second.serial, "code": second.code}).json()["status"]
        == "genuine"
    )
    web_context.verify_gate = VerifyGate(store_clock, overall=Limit(2, 60))
    online.post("/api/verify", json={"serial": second.serial, "code": second.code})
    online.post("/api/verify", json={"serial": second.serial, "code": second.code})
    busy = online.post("/api/verify", json={"serial": second.serial, "code": second.code})
    assert busy.status_code == 429 and busy.json()["error"] == "The certificate check is busy."


def test_without_issuance_the_page_says_the_check_is_not_available(web_client: TestClient) -> None:
    """GIVEN a central without certificate issuance WHEN the check is used THEN 503 saying it is not available here."""
    response = web_client.post(
        "/api/verify", json={"serial": "999999-20260401-000001", "code": "1234567890123456"}
    )
    assert response.status_code == 503 and "not available" in response.json()["error"]


def test_the_web_of_serve_checks_on_the_store_serve_issues_into(
    tmp_path: Path, central_store: FleetStore
) -> None:
    """GIVEN a central configuration with [issuance] WHEN the web context is opened as `kiosk-central serve` does
    THEN the check reads the issuance store `serve` issues into, with keys from the configured audit key."""
    audit = os.urandom(32)
    (tmp_path / "audit.key").write_text(base64.b64encode(audit).decode())
    (tmp_path / "sign.pem").write_bytes(
        Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    )
    issuance = IssuanceConfig.model_validate(
        {"demo": True, "signing_key": tmp_path / "sign.pem", "audit_key": tmp_path / "audit.key"}
    )
    config = local_central_config(tmp_path / "central", "mqtt://127.0.0.1:1883").model_copy(
        update={"issuance": issuance}
    )
    ctx = open_web_context(config, central_store)
    try:
        assert ctx.online_check is not None
        assert ctx.online_check.store.path == issuance_dir(config) / "issuance.sqlite"
        assert ctx.online_check.keys.code("s", "1") == CheckKeys(audit).code("s", "1")
        assert ctx.online_check.lookup("999999-20260401-000001", "1234567890123456").status == "not_found"
    finally:
        if ctx.online_check is not None:
            ctx.online_check.close()
