"""Golden images of every slip template, in Japanese and English, and the 𠮷 fallback.

Regenerate after an intended layout change (then look at the PNGs before committing):

    MADOGUCHI_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/test_printer_golden.py

Goldens depend on the pinned fonts (Debian fonts-morisawa-bizud-gothic 1.05, fonts-noto-cjk)
and Pillow's FreeType; the tolerance absorbs tiny rasteriser differences, not layout changes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from device_drivers.printer.document import Document, Text, TextSize
from device_drivers.printer.fonts import default_chain
from device_drivers.printer.preview import preview_image
from device_drivers.printer.profiles import profile_for
from device_drivers.printer.raster import RasterRenderer
from device_drivers.printer.samples import SAMPLE_KINDS, sample_document
from device_drivers.printer.templates import QueueTicket, ticket_document

GOLDEN = Path(__file__).parent / "golden" / "printing"
REGEN = os.environ.get("MADOGUCHI_REGEN_GOLDEN") == "1"
TOLERANCE = 0.002  # share of pixels allowed to differ


def differing_share(a: Image.Image, b: Image.Image) -> float:
    """Share of pixels that differ (1.0 when the sizes differ)."""
    if a.size != b.size:
        return 1.0
    diff = ImageChops.difference(a.convert("L"), b.convert("L")).point(lambda v: 255 if v else 0)
    return sum(diff.histogram()[255:]) / (a.width * a.height)


def check_golden(name: str, image: Image.Image) -> None:
    """Compare with tests/golden/printing/<name>.png (or write it when regenerating)."""
    path = GOLDEN / f"{name}.png"
    if REGEN:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        image.save(path, optimize=True)
    assert path.exists(), f"no golden {path}; regenerate with MADOGUCHI_REGEN_GOLDEN=1"
    share = differing_share(image, Image.open(path))
    assert share <= TOLERANCE, f"{name}: {share:.2%} of pixels differ from {path}"


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("kind", SAMPLE_KINDS)
def test_template_matches_golden_image(kind: str, lang: str) -> None:
    """GIVEN a sample slip WHEN rendered for an 80 mm printer THEN it matches its golden image."""
    check_golden(f"{kind}-{lang}", preview_image(sample_document(kind, lang), profile_for("tm-t20ii")))


def test_ticket_on_58mm_matches_golden_image() -> None:
    """GIVEN the 384-dot profile WHEN a ticket is rendered THEN it matches its golden (narrow layout)."""
    check_golden("ticket-ja-58mm", preview_image(sample_document("ticket", "ja"), profile_for("generic-58")))


def test_slip_on_58mm_matches_golden_image() -> None:
    """GIVEN the 384-dot profile (QR and barcode as raster images) WHEN a slip is rendered THEN it matches its golden."""
    check_golden("slip-ja-58mm", preview_image(sample_document("slip", "ja"), profile_for("generic-58")))


def test_golden_comparison_catches_a_one_digit_change() -> None:
    """GIVEN the ticket golden WHEN the queue number differs by one digit THEN the comparison fails."""
    doc = sample_document("ticket", "ja")
    original = preview_image(doc, profile_for("tm-t20ii"))
    base = QueueTicket("A-124", "住民票・印鑑証明", "3番窓口", "1階", __import__("datetime").datetime(2026, 4, 1, 9, 30), 4,
                       "https://q.madoguchi.example/t/7Q2XK9")  # fmt: skip
    changed = preview_image(ticket_document(base, "ja"), profile_for("tm-t20ii"))
    assert differing_share(original, changed) > TOLERANCE


def test_yoshi_with_tsuchi_is_drawn_from_the_fallback_font() -> None:
    """GIVEN 𠮷 (not in BIZ UD Gothic) WHEN rendered THEN Noto draws it and it differs from 吉."""
    chain = default_chain(False)
    assert chain.face_index("𠮷") == 1 and chain.face_index("吉") == 0
    renderer = RasterRenderer(576)
    yoshi = renderer.render([Text("𠮷", TextSize.LARGE)])
    kichi = renderer.render([Text("吉", TextSize.LARGE)])
    assert yoshi.getbbox() is not None or ImageChops.invert(yoshi.convert("L")).getbbox() is not None
    assert differing_share(yoshi, kichi) > 0.001
    check_golden("yoshi", renderer.render([Text("𠮷田 髙橋 槗本", TextSize.LARGE)]))


def test_document_texts_lists_every_text_block() -> None:
    """GIVEN a document WHEN asked for its texts THEN all text blocks come back (used for glyph checks)."""
    doc = Document("t", (Text("a"), Text("b")))
    assert doc.texts() == ("a", "b")
