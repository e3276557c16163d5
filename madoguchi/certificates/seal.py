"""The city's official seal (公印) image, drawn with Pillow: a red square seal with the city's name.

A municipality that has a scanned seal passes its PNG instead; this drawn one is the default
and the one used in tests and samples.
"""

from __future__ import annotations

import functools
import io

from PIL import Image, ImageDraw

from madoguchi.certificates.fonts import default_chain

__all__ = ["draw_city_seal"]

_RED = (200, 30, 30, 255)


@functools.lru_cache(maxsize=8)
def draw_city_seal(city: str, size: int = 240) -> bytes:
    """A PNG of the square seal 「<city>長之印」 (transparent background)."""
    text = f"{city}長之印"
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    border = max(4, size // 24)
    draw.rectangle((border, border, size - border, size - border), outline=_RED, width=border)
    # Seal script reads top to bottom, right to left, in two or three columns.
    columns = 3 if len(text) > 4 else 2
    per_column = -(-len(text) // columns)
    cell = (size - 4 * border) // max(per_column, columns)
    chain = default_chain(True)
    for i, char in enumerate(text):
        col, row = divmod(i, per_column)
        x = size - 2 * border - (col + 1) * (size - 4 * border) // columns
        y = 2 * border + row * (size - 4 * border) // per_column
        for index, run in chain.runs(char):
            draw.text(
                (x + ((size - 4 * border) // columns - cell) // 2, y),
                run,
                font=chain.font(index, cell),
                fill=_RED,
            )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
