"""Certificate PDFs with WeasyPrint: embedded, subset fonts with per-glyph fallback across the font stack.

WeasyPrint was chosen over fpdf2 after measuring on this machine (docs/printing.md): a full
住民票 page in ~70 ms warm vs ~575 ms for fpdf2 (which re-parses the CJK fonts per document),
with CSS layout and fallback for 𠮷 out of the box. Before issuing, every character is checked
against the installed fonts: a certificate is refused rather than printed with a missing 外字.
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from madoguchi.certificates.bodies import body_of, printed_text
from madoguchi.certificates.fonts import FontChain, FontFace
from madoguchi.certificates.layout import page
from madoguchi.certificates.models import Certificate
from madoguchi.certificates.qrsign import claims_for, new_opaque_id, sign_claims
from madoguchi.certificates.seal import draw_city_seal

__all__ = ["RenderedCertificate", "certificate_fonts", "render_certificate"]

_logger = logging.getLogger(__name__)

_NOTO = "/usr/share/fonts/opentype/noto"


@dataclass(frozen=True, repr=False)
class RenderedCertificate:
    """A rendered certificate: PDF bytes, the QR payload and the opaque id (for the audit journal)."""

    serial: str
    opaque_id: str
    qr_payload: str
    pdf: bytes

    def __repr__(self) -> str:
        return f"RenderedCertificate(serial={self.serial!r}, {len(self.pdf)} bytes)"


@functools.lru_cache(maxsize=1)
def certificate_fonts() -> FontChain:
    """The faces the certificate font stack resolves to (for the coverage check)."""
    faces = [
        FontFace(f"{_NOTO}/NotoSerifCJK-Regular.ttc", 0),
        FontFace(f"{_NOTO}/NotoSansCJK-Regular.ttc", 0),
    ]
    return FontChain(tuple(f for f in faces if os.path.exists(f.path)))


def render_certificate(
    certificate: Certificate, signing_key: Ed25519PrivateKey, seal_png: bytes | None = None
) -> RenderedCertificate:
    """Render `certificate` to PDF with its seal and signed QR; raise `GlyphMissing` for unprintable characters."""
    from weasyprint import HTML  # imported here: heavy, and only A4 printing needs it

    certificate_fonts().check(printed_text(certificate))
    meta = certificate.meta
    opaque_id = new_opaque_id()
    payload = sign_claims(
        claims_for(certificate.kind.value, meta.serial, meta.issued_at, opaque_id), signing_key
    )
    title, body, attestation = body_of(certificate)
    html = page(title, body, attestation, meta, seal_png or draw_city_seal(meta.city), payload)
    pdf = HTML(string=html).write_pdf()
    assert pdf is not None
    _logger.info("certificate %s (%s) rendered: %d bytes", meta.serial, certificate.kind.value, len(pdf))
    return RenderedCertificate(meta.serial, opaque_id, payload, pdf)
