"""The payment slip's codes as SVG: a QR code (`MDG1:<code>:<amount>`) and a CODE128 barcode of the code."""

from __future__ import annotations

import io

import barcode
import qrcode
import qrcode.image.svg
from barcode.writer import SVGWriter

from madoguchi.contracts.orders import slip_qr_payload

__all__ = ["barcode_svg", "qr_svg"]


def qr_svg(code: str, amount_yen: int) -> bytes:
    """The slip's QR code (error correction M) as a standalone SVG document."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    qr.add_data(slip_qr_payload(code, amount_yen))
    image = qr.make_image(image_factory=qrcode.image.svg.SvgPathFillImage)
    data = image.to_string(encoding="unicode")
    return data.encode() if isinstance(data, str) else bytes(data)


def barcode_svg(code: str) -> bytes:
    """The order code as a CODE128 barcode (no human-readable text; the page prints the code)."""
    out = io.BytesIO()
    barcode.get("code128", code, writer=SVGWriter()).write(
        out, options={"write_text": False, "module_height": 12.0, "module_width": 0.3, "quiet_zone": 4.0}
    )
    return out.getvalue()
