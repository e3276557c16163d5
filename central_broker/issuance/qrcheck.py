"""Offline check of a certificate's QR code: from the QR text, or from a certificate PDF (images
extracted with poppler's `pdfimages`, decoded with zxing-cpp; text with `pdftotext -raw`), against the
city's public key.

What each check proves:

- QR text alone: the city signed this kind, serial, issue time and content digest. It says nothing
  about the paper or file the code is printed on — a genuine code copied onto a forged page still
  verifies. Compare with the PDF, or check online with the serial and the verification code.
- PDF with a format-2 code: additionally, the text of this PDF is the text the city signed (digest of
  the canonical printed content, `printed`), and the printed serial is the signed one.
- A format-1 code (printed before content binding), alone or in a PDF: kind, serial and issue time
  only; the printed name and other content cannot be confirmed offline (nor online: format-1
  certificates carry no verification code). The verdict is then "content unchecked", never "genuine".
"""

from __future__ import annotations

import enum
import logging
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from central_broker.issuance.certqr import PREFIXES, CertClaims, QrSignatureError, read_cert_qr
from central_broker.issuance.printed import content_digest, pages_content
from madoguchi.contracts.issuance import load_issuance_key as load_public_key
from madoguchi.errors import UserError

__all__ = [
    "QrCheck",
    "Verdict",
    "check_pdf",
    "check_qr",
    "load_public_key",
    "pdf_pages_text",
    "qr_payloads_in_pdf",
]

_logger = logging.getLogger(__name__)


class Verdict(enum.StrEnum):
    """The outcome of an offline check."""

    GENUINE = "genuine"  # signature, serial and printed content all match
    NOT_GENUINE = "not_genuine"  # the PDF's serial or text is not what the QR code signs
    QR_ONLY = "qr_only"  # a genuine QR code, checked without the document it is printed on
    CONTENT_UNCHECKED = "content_unchecked"  # a genuine format-1 code: the printed content cannot be checked


@dataclass(frozen=True)
class QrCheck:
    """Result of a check: the signed claims and, for a PDF, whether its printed serial and text match them."""

    claims: CertClaims
    printed_serial_matches: bool | None = None
    content_matches: bool | None = None

    @property
    def verdict(self) -> Verdict:
        """What the check shows (see the module docstring)."""
        if self.printed_serial_matches is False or self.content_matches is False:
            return Verdict.NOT_GENUINE
        if self.claims.content_digest is None:
            return Verdict.CONTENT_UNCHECKED
        if self.printed_serial_matches is None:
            return Verdict.QR_ONLY
        return Verdict.GENUINE


def check_qr(text: str, key: Ed25519PublicKey) -> QrCheck:
    """Verify a QR payload alone; raises `QrSignatureError` when it is not genuine."""
    return QrCheck(read_cert_qr(text, key))


def _tool(name: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        raise UserError(f"{name} is not installed", "install poppler-utils (scripts/bootstrap.sh does)")
    return exe


def _existing(pdf: Path) -> None:
    if not pdf.is_file():
        raise UserError(f"{pdf} does not exist", "give the path of a certificate PDF")


def qr_payloads_in_pdf(pdf: Path) -> list[str]:
    """Every Madoguchi certificate QR payload found in the PDF's images."""
    try:
        import zxingcpp
        from PIL import Image
    except ImportError as exc:
        raise UserError("zxing-cpp is not installed", "pip install 'madoguchi[central]'") from exc
    _existing(pdf)
    found: list[str] = []
    with tempfile.TemporaryDirectory(prefix="qrcheck-") as tmp:
        done = subprocess.run(
            [_tool("pdfimages"), "-png", str(pdf), f"{tmp}/img"], capture_output=True, timeout=60, check=False
        )
        if done.returncode != 0:
            raise UserError(f"{pdf} is not a readable PDF", "give the certificate PDF as issued")
        for image_path in sorted(Path(tmp).glob("img-*.png")):
            with Image.open(image_path) as image:
                for code in zxingcpp.read_barcodes(image.convert("L")):
                    if code.text.startswith(tuple(prefix + "." for prefix in PREFIXES)):
                        found.append(code.text)
    return found


def pdf_pages_text(pdf: Path) -> list[str]:
    """The text of each page in content-stream order (`pdftotext -raw`), as the content digest reads it."""
    _existing(pdf)
    done = subprocess.run(
        [_tool("pdftotext"), "-raw", "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise UserError(f"{pdf} is not a readable PDF", "give the certificate PDF as issued")
    pages = done.stdout.decode("utf-8", "replace").split("\f")
    return pages[:-1] if len(pages) > 1 and not pages[-1].strip() else pages


def check_pdf(pdf: Path, key: Ed25519PublicKey) -> QrCheck:
    """Find the certificate QR in `pdf`, verify it, and compare the signed serial and (format 2) the signed
    content digest with the PDF's text."""
    payloads = qr_payloads_in_pdf(pdf)
    if not payloads:
        raise QrSignatureError("no Madoguchi certificate QR code found in the PDF")
    if len(set(payloads)) > 1:
        raise QrSignatureError("the PDF carries different certificate QR codes; a certificate has one")
    claims = read_cert_qr(payloads[0], key)
    pages = pdf_pages_text(pdf)
    serial_matches = any(claims.serial in page for page in pages)
    if claims.content_digest is None:
        return QrCheck(claims, serial_matches)
    content = pages_content(pages, claims.serial)
    matches = content is not None and content_digest(claims.serial, content) == claims.content_digest
    return QrCheck(claims, serial_matches, matches)
