"""The kiosk screens: one `.py` (what to show for the flow's view) plus a same-named `.kv` (layout) each."""

from __future__ import annotations

__all__ = ["SCREEN_NAMES"]

SCREEN_NAMES = (
    "home",
    "language",
    "message",
    "keypad",
    "choices",
    "copies",
    "rating",
    "ticket",
    "guide",
    "prefill",
    "prefill_pin",
)
