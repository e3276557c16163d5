"""Certificate PDFs whose QR code binds what is printed (format 2, `certqr`).

The page is the printing package's (`madoguchi.certificates`: body, frame, seal, fonts); this module
adds the verification-code line under the body, takes the canonical printed content from the page's
HTML (`printed.html_content`), signs kind, serial, issue time and the content digest into the QR code,
and renders. The QR image carries no text, so the content is the same with any QR payload.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from html import escape

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from central_broker.issuance.certqr import CertClaims, sign_cert_qr
from central_broker.issuance.checkcode import format_code
from central_broker.issuance.printed import content_digest, html_content
from madoguchi.certificates.bodies import body_of, printed_text
from madoguchi.certificates.layout import page
from madoguchi.certificates.models import Certificate
from madoguchi.certificates.pdf import certificate_fonts
from madoguchi.certificates.seal import draw_city_seal

__all__ = ["BoundCertificate", "render_bound", "verification_line"]

_logger = logging.getLogger(__name__)


@dataclass(frozen=True, repr=False)
class BoundCertificate:
    """A rendered certificate: PDF bytes, its QR payload and the digest of its printed content."""

    serial: str
    qr_payload: str
    content_digest: str
    pdf: bytes

    def __repr__(self) -> str:
        return f"BoundCertificate(serial={self.serial!r}, {len(self.pdf)} bytes)"


def verification_line(code: str, verify_url: str | None) -> str:
    """The printed line telling a reader where and with which code to check the certificate online."""
    where = f"{verify_url} で" if verify_url else "発行元の市の証明書確認ページで"
    return (
        f"照合番号 {format_code(code)}（{where}証明書番号と照合番号を入力すると、この証明書を確認できます）"
    )


def render_bound(
    certificate: Certificate, key: Ed25519PrivateKey, code: str, verify_url: str | None = None
) -> BoundCertificate:
    """Render `certificate` with its verification code and a QR code binding the printed content.

    Raises:
        GlyphMissing: a character has no glyph in the certificate fonts.
    """
    from weasyprint import HTML  # imported here: heavy, and only rendering needs it

    line = verification_line(code, verify_url)
    certificate_fonts().check(printed_text(certificate) + line)
    meta = certificate.meta
    title, body, attestation = body_of(certificate)
    body += f'<p class="small">{escape(line)}</p>'
    seal = draw_city_seal(meta.city)
    draft = page(title, body, attestation, meta, seal, meta.serial)  # the QR payload prints no text
    digest = content_digest(meta.serial, html_content(draft, meta.serial))
    claims = CertClaims(
        2, certificate.kind.value, meta.serial, meta.issued_at.isoformat(timespec="seconds"), digest
    )
    payload = sign_cert_qr(claims, key)
    pdf = HTML(string=page(title, body, attestation, meta, seal, payload)).write_pdf()
    assert pdf is not None
    _logger.info("certificate %s (%s) rendered: %d bytes", meta.serial, certificate.kind.value, len(pdf))
    return BoundCertificate(meta.serial, payload, digest, pdf)
