"""A certificate rendered for the kiosk's A4 printer: `madoguchi.certificates.pdf` raising printer errors."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from device_drivers.printer.translate import printer_errors
from madoguchi.certificates import pdf
from madoguchi.certificates.models import Certificate
from madoguchi.certificates.pdf import RenderedCertificate

__all__ = ["RenderedCertificate", "render_certificate"]


def render_certificate(
    certificate: Certificate, signing_key: Ed25519PrivateKey, seal_png: bytes | None = None
) -> RenderedCertificate:
    """Render `certificate` to PDF with its seal and signed QR; the printer's `GlyphMissing` for unprintable text."""
    with printer_errors():
        return pdf.render_certificate(certificate, signing_key, seal_png)
