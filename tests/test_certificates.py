"""A4 certificates: PDF contents and fonts, the signed QR, and printing through a real CUPS to cups-pdf."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from device_drivers.printer.a4 import CupsPrinter, JobState, render_certificate
from device_drivers.printer.a4.cups import A4Health
from device_drivers.printer.errors import GlyphMissing, PrinterNotReady
from madoguchi.certificates.models import CertificateKind, ResidentRecord
from madoguchi.certificates.qrsign import QrSignatureError, verify_qr
from madoguchi.certificates.samples import sample_certificate
from tests.fixtures.printing import CupsPdf, _free_port

EXPECTED = {
    CertificateKind.JUMINHYO: ("住民票の写し", "𠮷田 髙志", "本籍", "世帯全員", "続柄"),
    CertificateKind.INKAN: ("印鑑登録証明書", "登録番号", "𠮷田 髙志"),
    CertificateKind.SHOTOKU: ("所得・課税証明書", "合計所得金額", "5,200,000円"),
    CertificateKind.KOSEKI: ("戸籍全部事項証明書", "身分事項", "𠮷田 一郎"),
    CertificateKind.FUHYO: ("戸籍の附票の写し", "住所を定めた日", "見本県見本市旧町1番地", "𠮷田 花子"),
}


@pytest.fixture(scope="module")
def city_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def pdftotext(path: Path) -> str:
    """The PDF's text with all white space removed (letter-spaced titles come out as 住 民票)."""
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return "".join(text.split())


def qr_payloads(pdf: Path, tmp_path: Path) -> list[str]:
    """Render the first page at 150 dpi and decode every QR code on it."""
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", "-f", "1", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    page = Image.open(tmp_path / "page.png")
    return [r.text for r in zxingcpp.read_barcodes(page) if r.format == zxingcpp.BarcodeFormat.QRCode]


@pytest.mark.parametrize("kind", list(CertificateKind))
def test_certificate_pdf_has_its_text_embedded_fonts_serial_and_a4_page(
    kind: CertificateKind, city_key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    """GIVEN each certificate WHEN rendered THEN the text (with 𠮷) is there, fonts are embedded, page is A4."""
    rendered = render_certificate(sample_certificate(kind), city_key)
    pdf = tmp_path / "c.pdf"
    pdf.write_bytes(rendered.pdf)
    text = pdftotext(pdf)
    for expected in (*EXPECTED[kind], "MH-2026-000123", "見本市長"):
        assert "".join(expected.split()) in text, expected
    fonts = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts  # emb column
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "(A4)" in info


def test_qr_on_the_page_verifies_offline_and_holds_no_personal_data(
    city_key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    """GIVEN a 住民票 PDF WHEN its QR is scanned THEN the signature verifies and it names serial and kind only."""
    rendered = render_certificate(sample_certificate(), city_key)
    pdf = tmp_path / "c.pdf"
    pdf.write_bytes(rendered.pdf)
    (payload,) = qr_payloads(pdf, tmp_path)
    claims = verify_qr(payload, city_key.public_key())
    assert (claims.kind, claims.serial, claims.issued_at) == (
        "juminhyo",
        "MH-2026-000123",
        "2026-04-01T09:30:15",
    )
    assert claims.opaque_id == rendered.opaque_id
    assert "𠮷" not in payload and "見本" not in payload


def test_tampered_or_foreign_qr_does_not_verify(city_key: Ed25519PrivateKey) -> None:
    """GIVEN a signed payload WHEN a field is altered or another city's key is used THEN verification fails."""
    payload = render_certificate(sample_certificate(), city_key).qr_payload
    prefix, body, sig = payload.split(".")
    import base64

    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).replace(b"000123", b"000124")
    forged = f"{prefix}.{base64.urlsafe_b64encode(raw).rstrip(b'=').decode()}.{sig}"
    with pytest.raises(QrSignatureError):
        verify_qr(forged, city_key.public_key())
    with pytest.raises(QrSignatureError):
        verify_qr(payload, Ed25519PrivateKey.generate().public_key())
    with pytest.raises(QrSignatureError):
        verify_qr("https://example.com/", city_key.public_key())


def test_juminhyo_options_change_what_is_printed(city_key: Ed25519PrivateKey, tmp_path: Path) -> None:
    """GIVEN part of the household, no 本籍 and no 続柄 WHEN rendered THEN those items are absent."""
    full = sample_certificate()
    assert isinstance(full, ResidentRecord)
    partial = dataclasses.replace(full, whole_household=False, show_honseki=False, show_relationship=False,
                                  members=full.members[:1])  # fmt: skip
    pdf = tmp_path / "p.pdf"
    pdf.write_bytes(render_certificate(partial, city_key).pdf)
    text = pdftotext(pdf)
    assert "世帯の一部" in text
    assert "本籍" not in text and "続柄" not in text and "花子" not in text


def test_character_without_any_font_refuses_to_issue(city_key: Ed25519PrivateKey) -> None:
    """GIVEN a name with a character no installed font has WHEN rendering THEN GlyphMissing, naming only the code point."""
    cert = sample_certificate()
    assert isinstance(cert, ResidentRecord)
    bad = dataclasses.replace(cert, householder="\U000f0001")
    with pytest.raises(GlyphMissing) as failure:
        render_certificate(bad, city_key)
    assert failure.value.codepoints == (0xF0001,)
    assert "U+F0001" in failure.value.detail


def test_an_unprintable_character_is_refused_when_a_renderer_process_renders(
    city_key: Ed25519PrivateKey,
) -> None:
    """GIVEN a renderer in another process (as the central's render pool) WHEN it renders a name with a character
    no font has THEN the caller gets GlyphMissing naming that code point, not a broken pool."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from central_broker.issuance.documents import render
    from madoguchi.certificates.errors import GlyphMissing as Unprintable

    cert = sample_certificate()
    assert isinstance(cert, ResidentRecord)
    bad = dataclasses.replace(cert, householder="\U000f0001")
    with (
        ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool,
        pytest.raises(Unprintable) as failure,
    ):
        render(bad, city_key, "0" * 16, pool=pool)
    assert failure.value.codepoints == (0xF0001,)
    assert "U+F0001" in str(failure.value)


def test_certificate_repr_hides_personal_data() -> None:
    """GIVEN a certificate WHEN repr'd (as logs would) THEN no name or address shows."""
    text = repr(sample_certificate())
    assert "𠮷" not in text and "見本県" not in text and "MH-2026-000123" in text


def test_unreachable_cups_is_reported_as_error() -> None:
    """GIVEN no CUPS on the port WHEN asked THEN unreachable and health ERROR."""
    status = CupsPrinter(f"cups://Nowhere?server=127.0.0.1:{_free_port()}", timeout=2).status()
    assert not status.reachable and status.health is A4Health.ERROR


@pytest.mark.slow
def test_certificate_printed_through_cups_to_cups_pdf(
    cups_pdf: CupsPdf, city_key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    """GIVEN a private CUPS with a cups-pdf queue WHEN a 住民票 is printed THEN the job completes, the PDF
    CUPS received holds the Japanese text, and the QR on cups-pdf's output page verifies."""
    printer = CupsPrinter(cups_pdf.url)
    assert printer.status().health is A4Health.OK
    rendered = render_certificate(sample_certificate(), city_key)
    job_id = printer.submit(rendered.pdf, "certificate")
    assert printer.wait(job_id, timeout=30) is JobState.COMPLETED
    output = cups_pdf.wait_for_pdf()
    assert (
        "(A4)" in subprocess.run(["pdfinfo", str(output)], capture_output=True, text=True, check=True).stdout
    )
    (payload,) = qr_payloads(output, tmp_path)
    assert verify_qr(payload, city_key.public_key()).serial == "MH-2026-000123"
    # cups-pdf re-distils through PostScript, which drops the CID fonts' Unicode maps (docs/printing.md),
    # so the text is read from the document file CUPS spooled for the job (PreserveJobFiles Yes).
    spooled = cups_pdf.root / "spool" / f"d{job_id:05d}-001"
    text = pdftotext(spooled)
    for expected in ("住民票の写し", "𠮷田髙志", "MH-2026-000123"):
        assert expected in text


@pytest.mark.slow
def test_stopped_cups_queue_is_reported_and_refuses_jobs(
    cups_pdf: CupsPdf, city_key: Ed25519PrivateKey
) -> None:
    """GIVEN the queue is disabled WHEN asked THEN health ERROR with state stopped, and submit raises PrinterNotReady."""
    subprocess.run(["cupsdisable", "-h", cups_pdf.server, "-r", "media-jam", cups_pdf.queue], check=True)
    try:
        printer = CupsPrinter(cups_pdf.url)
        status = printer.status()
        assert status.state == "stopped" and status.health is A4Health.ERROR
        with pytest.raises(PrinterNotReady):
            printer.submit(b"%PDF-1.4", "x")
    finally:
        subprocess.run(["cupsenable", "-h", cups_pdf.server, cups_pdf.queue], check=True)
    assert CupsPrinter(cups_pdf.url).status().health is A4Health.OK


@pytest.mark.slow
def test_print_test_certificate_through_cups_completes(
    cups_pdf: CupsPdf, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN the cups-pdf queue WHEN `kiosk print-test certificate --printer cups://…` THEN exit 0, job completed."""
    from kiosk_app.cli import main

    assert main(["print-test", "certificate", "--printer", cups_pdf.url]) == 0
    assert "completed" in capsys.readouterr().out
