"""The certificate QR code binds what is printed: `kiosk-central issuance verify` compares the signed content
digest with the PDF's text, so a genuine QR code on a page with another name or birth date is not genuine.

The forged PDFs are made the way a forger with the product's templates would: the same page parts
(`body_of`, `page`, WeasyPrint), the genuine QR code, the other lines re-typed from the genuine PDF.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import sqlite3
import subprocess
from datetime import date, datetime
from html import escape
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from central_broker.cli import main
from central_broker.issuance.documents import build_certificate
from central_broker.issuance.registry import Resident
from device_drivers.card.emulator.personas import Persona, persona_by_name
from madoguchi.certificates.bodies import body_of
from madoguchi.certificates.layout import page
from madoguchi.certificates.models import CertificateKind, CertificateMeta, FamilyRegister
from madoguchi.certificates.seal import draw_city_seal
from madoguchi.config import ConfigFileError, load_central_config
from madoguchi.contracts.issuance import IssueParams, IssueResult
from tests.fixtures.issuance import IssuanceEnv, authenticate_in_service

DEVICE = "jp-999999-k61"


def _issue(env: IssuanceEnv, persona: Persona, type_id: str = "juminhyo") -> tuple[IssueResult, str]:
    """A certificate issued through the service (the real render); returns it and its session id."""
    session_id = authenticate_in_service(env, DEVICE, persona)
    fee = env.service.settings.catalog.certificate_type(type_id).fee_for(env.service.now()).amount_yen
    params = IssueParams(session_id=session_id, type_id=type_id, payment_ref="P-1", amount_yen=fee)
    return env.service.issue(DEVICE, params), session_id


def _text_lines(pdf: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, check=True).stdout
    return out.decode("utf-8").splitlines()


def _resident(env: IssuanceEnv, session_id: str) -> Resident:
    session = env.store.session(session_id)
    resident = env.registry.resident(session.resident_id) if session and session.resident_id else None
    assert resident is not None
    return resident


def _pdf(html: str) -> bytes:
    from weasyprint import HTML

    pdf = HTML(string=html).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf


def _forge(env: IssuanceEnv, session_id: str, genuine: Path, qr: str, **changes: Any) -> bytes:
    """The genuine certificate re-typed with the product's templates and the genuine QR code, with the
    resident's facts replaced by `changes` (none: a faithful copy)."""
    resident = _resident(env, session_id)
    forged = dataclasses.replace(resident, **changes)
    household = tuple(
        forged if m.resident_id == resident.resident_id else m for m in env.registry.household(resident)
    )
    lines = _text_lines(genuine)
    footer = next(line for line in lines if line.startswith("証明書番号"))
    serial, issued = footer.split()[1], datetime.fromisoformat(" ".join(footer.split()[3:5]))
    meta = CertificateMeta(
        serial,
        issued,
        env.service.settings.catalog.municipality.names.text("ja"),
        env.service.settings.mayor,
        DEVICE,
    )
    cert = env.service.settings.catalog.certificate_type("juminhyo")
    title, body, attestation = body_of(build_certificate(cert, forged, household, {}, meta))
    start = next((i for i, line in enumerate(lines) if line.startswith("照合番号")), None)
    if start is not None:  # the verification-code line(s), re-typed as printed
        end = lines.index(attestation)
        body += f'<p class="small">{escape("".join(lines[start:end]))}</p>'
    return _pdf(page(title, body, attestation, meta, draw_city_seal(meta.city), qr))


def _public_pem(key: Ed25519PrivateKey, path: Path) -> Path:
    path.write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    return path


def _verify(capsys: pytest.CaptureFixture[str], pdf: Path, key: Path) -> tuple[int, dict[str, object], str]:
    code = main(["issuance", "verify", str(pdf), "--key", str(key), "--json"])
    data = json.loads(capsys.readouterr().out)
    main(["issuance", "verify", str(pdf), "--key", str(key)])
    return code, data, capsys.readouterr().out


def test_a_forged_name_and_birth_date_under_the_genuine_qr_code_is_reported_as_not_matching(
    issuance_env: IssuanceEnv, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a 住民票 issued by the service and a forger who re-types it with the product's templates and the
    genuine QR code WHEN the copy is faithful THEN `issuance verify` says genuine; WHEN the name and birth
    date are changed THEN it says NOT GENUINE, the printed content does not match, and exits 1."""
    issued, session_id = _issue(issuance_env, persona_by_name("valid-adult"))
    genuine = tmp_path / "genuine.pdf"
    genuine.write_bytes(base64.b64decode(issued.pdf))
    key = _public_pem(issuance_env.signing_key, tmp_path / "city.pem")

    faithful = tmp_path / "faithful.pdf"
    faithful.write_bytes(_forge(issuance_env, session_id, genuine, issued.qr))
    code, data, _ = _verify(capsys, faithful, key)
    assert (code, data["genuine"]) == (0, True), data

    forged = tmp_path / "forged.pdf"
    forged.write_bytes(
        _forge(issuance_env, session_id, genuine, issued.qr, name="偽造 太郎", birth_date=date(1970, 1, 2))
    )
    assert "偽造 太郎" in "\n".join(_text_lines(forged))
    code, data, text = _verify(capsys, forged, key)
    assert code == 1
    assert data["genuine"] is False
    assert data["content_matches"] is False
    assert (
        data["printed_serial_matches"] is True
    )  # the forger kept the serial: only the content gives it away
    assert "NOT GENUINE" in text and "printed content does not match" in text


def test_a_changed_birth_date_alone_is_caught(
    issuance_env: IssuanceEnv, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a genuine 住民票 of the resident with 𠮷 in the name WHEN only the birth date is re-typed one day
    later under the genuine QR code THEN `issuance verify` reports it as not matching."""
    issued, session_id = _issue(issuance_env, persona_by_name("rare-kanji"))
    genuine = tmp_path / "genuine.pdf"
    genuine.write_bytes(base64.b64decode(issued.pdf))
    key = _public_pem(issuance_env.signing_key, tmp_path / "city.pem")
    resident = _resident(issuance_env, session_id)
    assert "𠮷" in resident.name
    code, data, _ = _verify(capsys, genuine, key)
    assert (code, data["genuine"]) == (0, True)  # 𠮷 (outside the BMP) survives text extraction
    forged = tmp_path / "forged.pdf"
    later = date.fromordinal(resident.birth_date.toordinal() + 1)
    forged.write_bytes(_forge(issuance_env, session_id, genuine, issued.qr, birth_date=later))
    code, data, _ = _verify(capsys, forged, key)
    assert (code, data["genuine"]) == (1, False)
    assert data["content_matches"] is False


@pytest.mark.parametrize("kind", list(CertificateKind))
def test_every_kind_of_genuine_certificate_matches_its_own_text(
    kind: CertificateKind, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN each kind of certificate (samples with 𠮷 and 髙) rendered by the product WHEN verified THEN genuine."""
    from central_broker.issuance.bound_pdf import render_bound
    from madoguchi.certificates.samples import sample_certificate

    city = Ed25519PrivateKey.generate()
    pdf = tmp_path / f"{kind.value}.pdf"
    pdf.write_bytes(
        render_bound(sample_certificate(kind, "131016-20260401-000123"), city, "1234567890123456").pdf
    )
    code, data, text = _verify(capsys, pdf, _public_pem(city, tmp_path / "city.pem"))
    assert (code, data["verdict"], data["kind"]) == (0, "genuine", kind.value), text


def test_a_multi_page_certificate_with_mixed_width_text_matches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a 戸籍 of several pages whose names mix full-width, half-width and ideographic spaces WHEN verified
    THEN genuine (footers repeat on every page and are not content); WHEN one name on page 3 is changed THEN not."""
    from central_broker.issuance.bound_pdf import render_bound
    from madoguchi.certificates.samples import sample_certificate

    sample = sample_certificate(CertificateKind.KOSEKI, "131016-20260401-000124")
    assert isinstance(sample, FamilyRegister)
    member = sample.members[0]

    def register(names: list[str]) -> FamilyRegister:
        people = tuple(dataclasses.replace(member, name=n, events=member.events * 3) for n in names)
        return dataclasses.replace(sample, members=people)

    names = [f"ﾔﾏﾀﾞ　ＡＢＣ 葛城{i}" for i in range(12)]
    city = Ed25519PrivateKey.generate()
    key = _public_pem(city, tmp_path / "city.pem")
    rendered = render_bound(register(names), city, "1234567890123456")
    pdf = tmp_path / "long.pdf"
    pdf.write_bytes(rendered.pdf)
    assert _text_lines(pdf).count("戸籍に記録され") == 12
    code, data, text = _verify(capsys, pdf, key)
    assert (code, data["verdict"]) == (0, "genuine"), text
    names[7] = "ﾔﾏﾀﾞ　ＡＢＤ 葛城7"
    title, body, attestation = body_of(register(names))
    body += f'<p class="small">{escape(next(line for line in _text_lines(pdf) if line.startswith("照合番号")))}</p>'
    forged = tmp_path / "forged.pdf"
    meta = sample.meta
    forged.write_bytes(
        _pdf(page(title, body, attestation, meta, draw_city_seal(meta.city), rendered.qr_payload))
    )
    code, data, _ = _verify(capsys, forged, key)
    assert (code, data["content_matches"]) == (1, False)


def test_the_qr_text_alone_says_it_proves_nothing_about_the_paper(
    issuance_env: IssuanceEnv, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN the QR text of an issued certificate WHEN verified alone THEN exit 0, but the answer says the content
    was not checked and what the signature does and does not prove."""
    issued, _ = _issue(issuance_env, persona_by_name("valid-adult"))
    key = _public_pem(issuance_env.signing_key, tmp_path / "city.pem")
    assert issued.qr.startswith("MDG2.")
    assert main(["issuance", "verify", "--qr", issued.qr, "--key", str(key), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "qr_only" and data["content_checked"] is False and data["format"] == 2
    assert "nothing about the paper" in str(data["proves"])
    main(["issuance", "verify", "--qr", issued.qr, "--key", str(key)])
    assert "check online with the serial and the verification code" in capsys.readouterr().out


def test_a_format_1_certificate_is_not_called_genuine_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a certificate printed before content binding (format-1 QR code) WHEN verified as a PDF or as QR text
    THEN exit 1 with "CANNOT CONFIRM", naming the format and the serial to ask the issuing office about."""
    from madoguchi.certificates.pdf import render_certificate
    from madoguchi.certificates.samples import sample_certificate

    city = Ed25519PrivateKey.generate()
    key = _public_pem(city, tmp_path / "city.pem")
    old = render_certificate(sample_certificate(), city)
    pdf = tmp_path / "old.pdf"
    pdf.write_bytes(old.pdf)
    code, data, text = _verify(capsys, pdf, key)
    assert (code, data["verdict"], data["format"], data["genuine"]) == (1, "content_unchecked", 1, False)
    assert "CANNOT CONFIRM" in text and "format-1" in text and "MH-2026-000123" in text
    assert main(["issuance", "verify", "--qr", old.qr_payload, "--key", str(key)]) == 1
    assert "CANNOT CONFIRM" in capsys.readouterr().out


def test_the_store_keeps_the_digest_and_keyed_hashes_but_not_the_code_or_the_name(
    issuance_env: IssuanceEnv, tmp_path: Path
) -> None:
    """GIVEN an issued certificate WHEN the issuance database is read THEN its row holds the signed content
    digest and keyed hashes, and the file contains neither the printed verification code nor the name."""
    issued, session_id = _issue(issuance_env, persona_by_name("valid-adult"))
    pdf = tmp_path / "c.pdf"
    pdf.write_bytes(base64.b64decode(issued.pdf))
    line = next(line for line in _text_lines(pdf) if line.startswith("照合番号"))
    printed_code = line.split()[1][:19]
    assert len(printed_code.replace("-", "")) == 16
    row = issuance_env.store.document(issued.binding.serial)
    assert row is not None and row.code_hmac and row.holder_hmac
    assert (
        row.content_digest == base64.urlsafe_b64decode(issued.qr.split(".")[1] + "==").decode().split("|")[3]
    )
    resident = _resident(issuance_env, session_id)
    with sqlite3.connect(issuance_env.store.path) as db:
        dump = "\n".join(db.iterdump())
    for secret in (
        printed_code,
        printed_code.replace("-", ""),
        resident.name,
        resident.name.replace(" ", ""),
    ):
        assert secret not in dump


def test_canonical_form_folds_only_what_prints_alike() -> None:
    """GIVEN full-width letters and digits, half-width kana, ideographic spaces and line breaks WHEN canonical
    THEN they equal their plain forms; another character (吉 for 𠮷, one digit) stays different."""
    from central_broker.issuance.printed import canonical

    assert canonical("ＡＢＣ　１２３\nｶﾀｶﾅ（様）") == canonical("ABC123カタカナ(様)") == "ABC123カタカナ(様)"
    assert canonical("住 民 票 の 写 し") == "住民票の写し"
    assert canonical("𠮷田 髙志") == "𠮷田髙志" != canonical("吉田 髙志")
    assert canonical("葛\U000e0100城") == "葛城"  # an IVS is dropped: the PDF's text layer does not keep it
    assert canonical("昭和55年5月6日") != canonical("昭和55年5月7日")


def test_text_hidden_after_a_footer_or_a_missing_footer_does_not_match() -> None:
    """GIVEN the text of a two-page certificate WHEN one page carries extra text after its footer, or a page has
    no footer THEN the content cannot be read (no digest can match); WHEN both pages are as printed THEN the
    content is the bodies followed by the footer once."""
    from central_broker.issuance.printed import pages_content

    serial = "131016-20260401-000123"
    footer = f"証明書番号 {serial} 発行日時 2026-04-01 09:30:15 端末 k01\n右下のQRコードは改ざん防止用です"
    pages = [f"住民票の写し\n氏名 窓口 花子\n{footer}\n", f"続柄 世帯主\n見本市長 見本 太郎\n{footer}\n"]
    content = pages_content(pages, serial)
    assert (
        content is not None
        and content.count(serial) == 1
        and content.startswith("住民票の写し氏名窓口花子続柄")
    )
    assert pages_content([pages[0], pages[1] + "備考 偽造\n"], serial) is None
    assert pages_content([pages[0], "続柄 世帯主\n"], serial) is None


def test_the_configured_check_page_is_printed_and_a_bad_address_is_refused(
    issuance_env: IssuanceEnv, tmp_path: Path
) -> None:
    """GIVEN `[issuance] verify_url` in central.toml WHEN a certificate is issued THEN its printed text names
    that page beside the verification code, and the copy still verifies; an address that is not https://
    is refused when the file is loaded, naming the key."""
    base = (
        '[central]\ndata_dir = "state"\nstore_url = "sqlite:///c.db"\n[broker]\nurl = "mqtt://127.0.0.1:1883"\n'
        '[issuance]\nsigning_key = "sign.pem"\naudit_key = "audit.key"\ndemo = true\n'
    )
    (tmp_path / "sign.pem").write_text("x")
    (tmp_path / "audit.key").write_text("x")
    path = tmp_path / "central.toml"
    path.write_text(base + 'verify_url = "http://city.example.jp/verify"\n', encoding="utf-8")
    with pytest.raises(ConfigFileError) as caught:
        load_central_config(path)
    assert "verify_url" in str(caught.value)
    path.write_text(base + 'verify_url = "https://www.city.midori.example.jp/verify"\n', encoding="utf-8")
    config = load_central_config(path)
    assert config.issuance is not None

    service = issuance_env.service
    service.settings = dataclasses.replace(service.settings, verify_url=config.issuance.verify_url)
    result, _ = _issue(issuance_env, persona_by_name("valid-adult"))
    pdf = tmp_path / "printed.pdf"
    pdf.write_bytes(base64.b64decode(result.pdf))
    text = "".join(_text_lines(pdf))
    assert "https://www.city.midori.example.jp/verify" in text
    assert "照合番号" in text
