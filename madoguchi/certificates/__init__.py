"""Certificates as the city issues them: typed contents, HTML/CSS page, PDF with seal and signed QR code.

Shared by the central (issuance renders and verifies) and the kiosk (print test, 書かない窓口 forms through
`device_drivers.printer.a4`, which translates these errors into printer errors). Pure rendering: no device,
no network. Needs the rendering packages of the `kiosk` or `central` extra (WeasyPrint, qrcode, Pillow,
fontTools); importing this package alone loads none of them.

Modules: `models` (frozen contents), `bodies` and `layout` (HTML), `pdf` (WeasyPrint, glyph check),
`seal` (公印), `qrsign` (Ed25519-signed codes), `fonts` (per-character fallback), `samples` (fictional).
"""

from __future__ import annotations

from madoguchi.certificates.errors import (
    CertificateError,
    FontsMissing,
    GlyphMissing,
    QrSignatureError,
    RenderError,
)
from madoguchi.certificates.models import Certificate, CertificateKind, CertificateMeta

__all__ = [
    "Certificate",
    "CertificateError",
    "CertificateKind",
    "CertificateMeta",
    "FontsMissing",
    "GlyphMissing",
    "QrSignatureError",
    "RenderError",
]
