"""やさしい日本語 on the real screens: furigana drawn above the kanji (ruby), not in parentheses, at both panel
sizes and in large-text mode."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from kiosk_app.flows import events as ev
from kiosk_app.ui.ruby_label import Rect, RubyLabel
from tests.ui.conftest import Ui
from tests.ui.test_screens import ORIENTATION, Kiosk

_TAGS = re.compile(r"\[[^\]]*\]")
# A reading in parentheses after a word, as the old inline rendering drew it: 暗証番号(あんしょうばんごう)
_PARENTHESIZED_READING = re.compile(r"[(（][\u3041-\u309f]+[)）]")


def _visible_labels(root: Any) -> list[Any]:
    from kivy.uix.label import Label

    return [w for w in root.walk(restrict=True) if isinstance(w, Label) and w.text and w.opacity]


def _ruby_labels(root: Any) -> list[RubyLabel]:
    return [w for w in _visible_labels(root) if isinstance(w, RubyLabel) and w.ruby_layout is not None]


def _ink(image: Any, rect: Rect, background: tuple[int, int, int]) -> int:
    """Pixels inside `rect` (window coordinates, y up) that differ from the background colour."""
    from PIL import Image, ImageChops

    x, y, width, height = rect
    top = image.height - (y + height)
    box = image.crop((round(x), round(top), round(x + width), round(top + height))).convert("RGB")
    red, green, blue = ImageChops.difference(box, Image.new("RGB", box.size, background)).split()
    strongest = ImageChops.lighter(ImageChops.lighter(red, green), blue)
    return sum(strongest.histogram()[61:])


def _assert_readings_above(k: Kiosk, shot: Path) -> None:
    """Every word with a reading: the reading sits on top of the word, centred over it, and is really drawn."""
    from PIL import Image

    image = Image.open(shot)
    labels = _ruby_labels(k.root.screen())
    assert labels, "no label shows furigana"
    for label in labels:
        for base, reading in label.ruby_boxes():
            bx, by, bw, bh = base
            rx, ry, rw, rh = reading
            assert ry >= by + bh - 0.5, f"reading {reading} not above {base} in {label.text!r}"
            assert abs((rx + rw / 2) - (bx + bw / 2)) <= 1, f"reading {reading} not centred on {base}"
            if rw <= bw:
                assert bx - 0.5 <= rx and rx + rw <= bx + bw + 0.5, f"reading {reading} outside {base}"
            assert ry + rh <= label.to_window(*label.pos)[1] + label.height + 1, "reading outside its label"
    # The title's first reading and its word are drawn (ink on the screenshot), on a button too.
    title = k.root.screen().ids.title
    base, reading = title.ruby_boxes()[0]
    background = tuple(round(c * 255) for c in k.root.background[:3])
    assert _ink(image, reading, background) > 20 and _ink(image, base, background) > 50
    forgot = k.root.screen().ids.forgot
    base, reading = forgot.ruby_boxes()[0]
    button = tuple(round(c * 255) for c in forgot.background_color[:3])
    assert _ink(image, reading, button) > 20 and _ink(image, base, button) > 50


def _assert_no_parenthesized_readings(k: Kiosk) -> None:
    for label in _visible_labels(k.root):
        shown = _TAGS.sub("", label.text)
        assert not _PARENTHESIZED_READING.search(shown), f"reading in parentheses: {shown!r}"


def _assert_fits(k: Kiosk) -> None:
    """Each text with furigana lies inside its label: no overflow onto its neighbours or off the screen."""
    window = k.ui.window
    for label in _ruby_labels(k.root):
        width, height = label.texture_size
        assert width <= label.width + 1 and height <= label.height + 1, (
            f"{label.text!r}: text {width}x{height} in a {label.width:.0f}x{label.height:.0f} label"
        )
        left, bottom = label.to_window(*label.pos)
        for base, reading in label.ruby_boxes():
            for x, y, w, h in (base, reading):
                assert left - 1 <= x and x + w <= left + label.width + 1, f"{label.text!r} overflows sideways"
                assert bottom - 1 <= y and y + h <= bottom + label.height + 1, f"{label.text!r} overflows"
                assert x >= 0 and x + w <= window.width and y >= 0 and y + h <= window.height
        reading_sizes = [item.size for item in label.ruby_layout.items if item.role == "reading"]
        assert min(reading_sizes) >= 14, f"readings too small in {label.text!r}: {reading_sizes}"


@pytest.fixture
def kiosk(ui: Ui) -> Kiosk:
    return Kiosk(ui)


def test_easy_japanese_draws_readings_above_the_kanji(kiosk: Kiosk) -> None:
    """GIVEN やさしい日本語 WHEN the PIN screen and the forgotten-PIN notice show, in normal and large text
    THEN each reading is drawn above its word and centred on it, no reading is in parentheses, and every
    text with readings fits its label."""
    k = kiosk
    k.tap_id("issuance")
    k.tap_text("やさしい")
    k.device(ev.CardInserted(), ev.PinTriesRead(1))
    _assert_no_parenthesized_readings(k)
    title = k.root.screen().ids.title
    assert isinstance(title, RubyLabel) and "{暗証番号|あんしょうばんごう}" in title.text
    k.shot("ja-x-easy-ruby")
    _assert_readings_above(k, k.shots[-1])
    _assert_fits(k)
    normal = title.ruby_layout.items[0].size

    k.tap_id("large")
    assert title.font_size > 1.3 * 48
    k.shot("ja-x-easy-ruby-large")
    _assert_readings_above(k, k.shots[-1])
    _assert_no_parenthesized_readings(k)
    _assert_fits(k)
    assert title.ruby_layout.items[0].size >= normal * (0.99 if ORIENTATION == "portrait" else 0.6)

    k.tap_id("forgot")
    assert k.controller.step_name() == "pin_forgotten"
    k.shot("ja-x-easy-ruby-large")
    assert _ruby_labels(k.root.screen()), "the notice shows no furigana"
    _assert_no_parenthesized_readings(k)
    _assert_fits(k)
