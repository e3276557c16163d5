"""नेपाली on the kiosk screens is shaped: conjuncts are joined, not drawn letter by letter with a virama."""

from __future__ import annotations

from typing import Any

from kiosk_app.ui.fonts import DEVA_FONT, register_fonts
from kiosk_app.ui.widgets import KLabel
from tests.ui.conftest import Ui


def _pixels(ui: Ui, text: str, script: str | None = None) -> Any:
    label = ui.mount(
        KLabel(text=text, font_name=DEVA_FONT, font_size=64, size_hint=(None, None), size=(600, 120))
    )
    if script is not None:
        label.font_script_name = script  # force what a label without shaping would do
    label.texture_update()
    return label.font_script_name, label.texture.pixels


def test_a_nepali_label_is_shaped_for_devanagari(ui: Ui) -> None:
    """GIVEN a kiosk label with क्षेत्र (conjunct क्ष, vowel sign) WHEN it is drawn THEN it is shaped as Devanagari and
    looks different from the same letters drawn one by one; Japanese labels keep the default script."""
    register_fonts()
    script, shaped = _pixels(ui, "क्षेत्र")
    _same, unshaped = _pixels(ui, "क्षेत्र", "Latn")
    assert script == "Deva" and shaped != unshaped
    assert ui.mount(KLabel(text="住民票の写し")).font_script_name == "Latn"
