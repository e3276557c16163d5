"""The simulator's hands (`kiosk run --simulate` with a window): put a persona's card in or take it out, and
hold a payment slip under the scanner. A strip below the kiosk screen; never shown on a real kiosk.

It is a developer and demo tool, not a resident-facing screen, so its labels are not translated.
"""

from __future__ import annotations

import logging
from typing import Any

from device_drivers.card.emulator.personas import PERSONAS
from kiosk_app.runner.card_slot import EmulatedCardSlot

__all__ = ["PANEL_HEIGHT", "build_panel"]

_logger = logging.getLogger(__name__)

PANEL_HEIGHT = 64


def build_panel(slot: EmulatedCardSlot, scan: Any | None = None) -> Any:
    """A row: persona picker, insert, remove and (with a scanner emulator) an order code field with Scan."""
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.button import Button
    from kivy.uix.spinner import Spinner
    from kivy.uix.textinput import TextInput

    panel = BoxLayout(size_hint_y=None, height=PANEL_HEIGHT, padding=6, spacing=6)
    persona = Spinner(text=slot.persona, values=[p.name for p in PERSONAS], size_hint_x=0.3)
    insert = Button(text="Insert card", size_hint_x=0.17)
    remove = Button(text="Remove card", size_hint_x=0.17)
    insert.bind(on_release=lambda *_: slot.insert(persona.text))
    remove.bind(on_release=lambda *_: slot.remove())
    panel.ids["persona"], panel.ids["insert_card"], panel.ids["remove_card"] = persona, insert, remove
    for widget in (persona, insert, remove):
        panel.add_widget(widget)
    if scan is not None:
        code = TextInput(hint_text="order code or slip QR text", multiline=False, size_hint_x=0.24)
        button = Button(text="Scan slip", size_hint_x=0.12)
        button.bind(on_release=lambda *_: scan(code.text.strip()) if code.text.strip() else None)
        panel.ids["slip_code"], panel.ids["scan_slip"] = code, button
        panel.add_widget(code)
        panel.add_widget(button)
    return panel
