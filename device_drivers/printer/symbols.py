"""QR codes and CODE128 barcodes as 1-bit images with their quiet zones, and their sizes in modules.

Used for printers without native QR or barcode commands (the image is sent as raster), and to
pick a module size that leaves room for the quiet zone on narrow paper. QR symbols come from
`qrcode` (error correction L, as python-escpos asks native printers for). CODE128 comes from
python-barcode (code sets, checksum, quiet zone), drawn by `DotWriter` in whole printer dots:
python-barcode's own ImageWriter works in millimetres and truncates each bar edge to a pixel,
so 2-dot modules at 203 dpi come out 1 to 8 dots wide and do not scan.
"""

from __future__ import annotations

from barcode import Code128
from barcode.writer import BaseWriter
from PIL import Image, ImageDraw
from qrcode import QRCode
from qrcode.constants import ERROR_CORRECT_L

from device_drivers.printer.errors import PrinterConfigError

__all__ = [
    "BARCODE_QUIET_MODULES",
    "QR_QUIET_MODULES",
    "DotWriter",
    "barcode_image",
    "barcode_modules",
    "centred",
    "fit_module",
    "qr_image",
    "qr_modules",
]

QR_QUIET_MODULES = 4  # ISO/IEC 18004: 4 modules of light space on every side
BARCODE_QUIET_MODULES = 10  # ISO/IEC 15417 (CODE128): 10 modules left and right


def _qr(data: str, module: int, border: int) -> QRCode:
    code: QRCode = QRCode(error_correction=ERROR_CORRECT_L, box_size=module, border=border)
    code.add_data(data.encode("utf-8"))
    code.make(fit=True)
    return code


def qr_modules(data: str) -> int:
    """Modules per side of the QR symbol for `data`, without its quiet zone."""
    return int(_qr(data, 1, 0).modules_count)


def qr_image(data: str, module: int) -> Image.Image:
    """The QR symbol for `data`, `module` dots per module, inside its 4-module quiet zone."""
    image: Image.Image = _qr(data, module, QR_QUIET_MODULES).make_image().get_image()
    return image.convert("1")


class DotWriter(BaseWriter):  # type: ignore[misc]  # python-barcode ships no type hints
    """A python-barcode writer onto a 1-bit Pillow image whose unit is one printer dot.

    Pass every size (module_width, module_height, quiet_zone) in dots; with whole numbers every
    bar edge falls on a dot, so each bar is exactly as wide as its modules.
    """

    def __init__(self) -> None:
        super().__init__(self._start, self._paint, None, self._finish)
        self.margin_top = 0
        self.margin_bottom = 0
        self._image = Image.new("1", (1, 1), 1)

    def _start(self, code: list[str]) -> None:
        width, height = self.calculate_size(len(code[0]), 1)
        self._image = Image.new("1", (round(width), round(height)), 1)

    def _paint(self, xpos: float, ypos: float, width: float, color: str) -> None:
        if color != self.foreground:
            return  # the canvas is already white
        left, top = round(xpos), round(ypos)
        right, bottom = round(xpos + width) - 1, round(ypos + self.module_height) - 1
        ImageDraw.Draw(self._image).rectangle((left, top, right, bottom), fill=0)

    def _finish(self) -> Image.Image:
        return self._image


def barcode_modules(data: str) -> int:
    """Modules of the CODE128 symbol for `data` (start to stop bar), without quiet zones."""
    return len(Code128(data).build()[0])


def barcode_image(data: str, module: int, height: int) -> Image.Image:
    """CODE128 for `data` (no code-set prefix), `module` dots per module, `height` dots high, with quiet zones."""
    code = Code128(data, writer=DotWriter())
    image: Image.Image = code.render(
        {
            "module_width": module,
            "module_height": height,
            "quiet_zone": BARCODE_QUIET_MODULES * module,
            "write_text": False,  # the slip prints the code as text itself
            "foreground": "black",
        }
    )
    return image


def fit_module(wanted: int, modules: int, quiet: int, dots: int) -> int:
    """The largest module size up to `wanted` at which `modules` plus `quiet` on each side fit in `dots`."""
    module = min(wanted, dots // (modules + 2 * quiet))
    if module < 1:
        raise PrinterConfigError(
            f"a code of {modules} modules does not fit {dots} dots with its {quiet}-module quiet zones; "
            "shorten the data or use wider paper"
        )
    return module


def centred(image: Image.Image, width: int) -> Image.Image:
    """`image` centred on a white 1-bit canvas `width` dots wide (a full print line)."""
    canvas = Image.new("1", (width, image.height), 1)
    canvas.paste(image.convert("1"), ((width - image.width) // 2, 0))
    return canvas
