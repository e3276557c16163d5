"""QR codes on screen: a web address the resident opens on their phone (a kiosk cannot follow a link)."""

from __future__ import annotations

import functools
from typing import Any

import qrcode
from qrcode.constants import ERROR_CORRECT_M

__all__ = ["qr_texture"]


@functools.cache
def qr_texture(url: str, box: int = 8) -> Any:
    """A Kivy texture of the QR code of `url` (black on white, 4-module quiet zone, sharp when scaled)."""
    from kivy.graphics.texture import Texture
    from PIL import Image

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box, border=4)
    code.add_data(url)
    code.make(fit=True)
    image = code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    image = image.transpose(Image.Transpose.FLIP_TOP_BOTTOM)  # Kivy textures start at the bottom row
    texture = Texture.create(size=image.size, colorfmt="rgb")
    texture.blit_buffer(image.tobytes(), colorfmt="rgb", bufferfmt="ubyte")
    texture.mag_filter = "nearest"
    texture.min_filter = "nearest"
    return texture
