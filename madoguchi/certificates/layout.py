"""HTML/CSS frame shared by every certificate: A4 page, fonts, heading, attestation, seal, QR and footer.

All data is HTML-escaped here; body builders in `bodies` return already-escaped fragments.
"""

from __future__ import annotations

import base64
import io
from html import escape

import qrcode

from madoguchi.certificates.models import CertificateMeta

__all__ = ["FONT_STACK", "QR_MASK", "data_uri", "page", "qr_png", "wareki"]

QR_MASK = 4

FONT_STACK = "'BIZ UDMincho', 'Noto Serif CJK JP', 'Noto Sans CJK JP', serif"

_CSS = """
@page { size: A4; margin: 18mm 16mm 20mm 16mm; }
body { font-family: %(fonts)s; font-size: 10.5pt; color: #000; }
h1 { text-align: center; font-size: 20pt; letter-spacing: 0.4em; margin: 0 0 6mm 0; }
table { width: 100%%; border-collapse: collapse; margin-bottom: 4mm; }
th, td { border: 0.6pt solid #000; padding: 1.6mm 2mm; vertical-align: top; }
th { width: 28mm; font-weight: normal; background: #f2f2f2; text-align: left; }
.attest { margin-top: 8mm; line-height: 1.8; }
.issuer { margin-top: 6mm; text-align: right; font-size: 12pt; position: relative; padding-right: 30mm; }
.seal { position: absolute; right: 4mm; top: -8mm; width: 26mm; height: 26mm; }
.footer { position: fixed; bottom: -12mm; left: 0; right: 0; font-size: 8pt; }
.qr { position: fixed; bottom: -4mm; right: 0; width: 28mm; height: 28mm; }
.small { font-size: 8.5pt; }
"""


def data_uri(png: bytes) -> str:
    """A PNG as a data: URI (no external resources, so the PDF needs nothing else)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def qr_png(payload: str) -> bytes:
    """The certificate QR code as PNG (error correction M, 4-module quiet zone).

    The mask pattern is fixed (any of the eight is valid for readers): choosing the "best" one scores
    all eight and cost ~30 ms per certificate, an eighth of the whole render.
    """
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4, mask_pattern=QR_MASK
    )
    code.add_data(payload)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(out)
    return out.getvalue()


def wareki(year: int, month: int, day: int) -> str:
    """A date in the Japanese era calendar (令和/平成/昭和)."""
    for era, start in (("令和", (2019, 5, 1)), ("平成", (1989, 1, 8)), ("昭和", (1926, 12, 25))):
        if (year, month, day) >= start:
            n = year - start[0] + 1
            return f"{era}{'元' if n == 1 else n}年{month}月{day}日"
    return f"{year}年{month}月{day}日"


def page(
    title: str, body: str, attestation: str, meta: CertificateMeta, seal_png: bytes, qr_payload: str
) -> str:
    """The complete HTML of one certificate page."""
    issued = meta.issued_at
    issued_text = f"{wareki(issued.year, issued.month, issued.day)} {issued:%H:%M}"
    return f"""<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>{_CSS % {"fonts": FONT_STACK}}</style></head><body>
<h1>{escape(title)}</h1>
{body}
<p class="attest">{escape(attestation)}</p>
<p class="attest">{escape(issued_text)}</p>
<div class="issuer">{escape(meta.city)}長　{escape(meta.mayor)}<img class="seal" src="{data_uri(seal_png)}" alt=""></div>
<img class="qr" src="{data_uri(qr_png(qr_payload))}" alt="">
<div class="footer">証明書番号 {escape(meta.serial)}　発行日時 {issued:%Y-%m-%d %H:%M:%S}　端末 {escape(meta.kiosk_id)}<br>
<span class="small">右下のQRコードは改ざん防止用です（個人情報は含まれていません）。</span></div>
</body></html>"""
