"""Offline check of a printed certificate's QR code: from the QR text, or from a certificate PDF
(images extracted with poppler's `pdfimages`, decoded with zxing-cpp), against the city's public key.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from device_drivers.printer.a4.qrsign import PREFIX, QrClaims, QrSignatureError, verify_qr
from madoguchi.contracts.issuance import load_issuance_key as load_public_key
from madoguchi.errors import UserError

__all__ = ["QrCheck", "check_pdf", "check_qr", "load_public_key", "qr_payloads_in_pdf"]

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QrCheck:
    """Result of a check: the signed claims, and whether the PDF's printed text shows the same serial."""

    claims: QrClaims
    printed_serial_matches: bool | None = None


def check_qr(text: str, key: Ed25519PublicKey) -> QrCheck:
    """Verify a QR payload; raises `QrSignatureError` when it is not genuine."""
    return QrCheck(verify_qr(text, key))


def _tool(name: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        raise UserError(f"{name} is not installed", "install poppler-utils (scripts/bootstrap.sh does)")
    return exe


def qr_payloads_in_pdf(pdf: Path) -> list[str]:
    """Every Madoguchi QR payload found in the PDF's images."""
    try:
        import zxingcpp
        from PIL import Image
    except ImportError as exc:
        raise UserError("zxing-cpp is not installed", "pip install 'madoguchi[central]'") from exc
    if not pdf.is_file():
        raise UserError(f"{pdf} does not exist", "give the path of a certificate PDF")
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
                    if code.text.startswith(PREFIX + "."):
                        found.append(code.text)
    return found


def check_pdf(pdf: Path, key: Ed25519PublicKey) -> QrCheck:
    """Find the certificate QR in `pdf`, verify it, and compare the signed serial with the printed one."""
    payloads = qr_payloads_in_pdf(pdf)
    if not payloads:
        raise QrSignatureError("no Madoguchi certificate QR code found in the PDF")
    claims = verify_qr(payloads[0], key)
    text = subprocess.run(
        [_tool("pdftotext"), str(pdf), "-"], capture_output=True, timeout=60, check=False
    ).stdout.decode("utf-8", "replace")
    return QrCheck(claims, claims.serial in text)
