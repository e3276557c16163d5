"""Page rendering for the virtual printer: raster rows, QR codes, barcodes and device-font text on paper.

`Paper` collects what a printer would put on its roll, top to bottom, `width` dots wide, and
returns it as a 1-bit image. QR codes are drawn with `qrcode` (no quiet zone, like the printer),
CODE128 code set B from its pattern table, kanji-mode text with BIZ UD Gothic on a 24-dot cell.
"""

from __future__ import annotations

import qrcode
from barcode.charsets import code128
from PIL import Image, ImageDraw

from device_drivers.printer.fonts import default_chain

__all__ = ["Paper", "barcode_image", "qr_image", "raster_image"]

QR_EC = {48: qrcode.constants.ERROR_CORRECT_L, 49: qrcode.constants.ERROR_CORRECT_M,
         50: qrcode.constants.ERROR_CORRECT_Q, 51: qrcode.constants.ERROR_CORRECT_H}  # fmt: skip
KANJI_CELL = 24
LINE_SPACING = 30  # dots per line feed (default line spacing at 203 dpi)


def raster_image(width: int, height: int, data: bytes) -> Image.Image:
    """A GS v 0 bit image (1 = black dot) as a Pillow mode "1" image (0 = black)."""
    image = Image.frombytes("1", (width, height), data)
    return Image.eval(image, lambda v: 255 - v).convert("1")


def qr_image(data: bytes, module: int, ec: int = 48) -> Image.Image:
    """The QR symbol the printer prints for `data` (model 2, no quiet zone)."""
    code = qrcode.QRCode(
        error_correction=QR_EC.get(ec, qrcode.constants.ERROR_CORRECT_L), box_size=module, border=0
    )
    code.add_data(data)
    code.make(fit=True)
    image: Image.Image = code.make_image(fill_color="black", back_color="white").get_image()
    return image.convert("1")


def barcode_image(data: str, module: int, height: int) -> Image.Image:
    """A CODE128 bar pattern (data starting with "{B" means code set B)."""
    text = data[2:] if data.startswith("{B") else data
    values = [code128.START_CODES["B"]] + [code128.B[c] for c in text]
    checksum = (values[0] + sum(i * v for i, v in enumerate(values[1:], start=1))) % 103
    stop = (
        code128.STOP if len(code128.STOP) == 13 else code128.STOP + "11"
    )  # with the 2-module termination bar
    pattern = "".join(code128.CODES[v] for v in [*values, checksum]) + stop
    image = Image.new("1", (len(pattern) * module, height), 1)
    draw = ImageDraw.Draw(image)
    for i, bit in enumerate(pattern):
        if bit == "1":
            draw.rectangle((i * module, 0, (i + 1) * module - 1, height - 1), fill=0)
    return image


class Paper:
    """The printed roll of one job."""

    def __init__(self, width: int) -> None:
        self.width = width
        self._pieces: list[tuple[Image.Image | None, int, int]] = []  # (image or blank, rows, x)

    @property
    def empty(self) -> bool:
        """Nothing printed yet (blank feeds do not count)."""
        return all(image is None for image, _, _ in self._pieces)

    def place(self, image: Image.Image, align: int) -> None:
        """Print `image` at the alignment (0 left, 1 centre, 2 right)."""
        free = max(0, self.width - image.width)
        x = {0: 0, 1: free // 2, 2: free}.get(align, 0)
        self._pieces.append((image, image.height, x))

    def blank(self, rows: int) -> None:
        """Feed `rows` dot rows."""
        if rows > 0:
            self._pieces.append((None, rows, 0))

    def text_line(self, text: str, mag_w: int, mag_h: int, bold: bool, align: int) -> None:
        """Print one line of device-font text (kanji 24x24, ANK 12x24, magnified)."""
        height = KANJI_CELL * mag_h
        chain = default_chain(bold)
        size = KANJI_CELL * mag_h
        width = sum(chain.font(i, size).getlength(run) for i, run in chain.runs(text)) if text else 0
        line = Image.new("1", (max(1, min(self.width, round(width * mag_w / mag_h))), height + 6), 1)
        if text:
            glyphs = Image.new("1", (max(1, round(width)), height + 6), 1)
            draw = ImageDraw.Draw(glyphs)
            draw.fontmode = "1"
            x = 0.0
            for index, run in chain.runs(text):
                font = chain.font(index, size)
                draw.text((round(x), round(height * 0.88)), run, font=font, fill=0, anchor="ls")
                x += font.getlength(run)
            line = (
                glyphs.resize((line.width, line.height))
                if mag_w != mag_h
                else glyphs.crop((0, 0, line.width, line.height))
            )
        self.place(line, align)

    def image(self) -> Image.Image:
        """The roll so far with trailing blank rows removed."""
        pieces = list(self._pieces)
        while pieces and pieces[-1][0] is None:
            pieces.pop()
        height = max(1, sum(rows for _, rows, _ in pieces))
        out = Image.new("1", (self.width, height), 1)
        y = 0
        for image, rows, x in pieces:
            if image is not None:
                out.paste(image, (x, y))
            y += rows
        return out
