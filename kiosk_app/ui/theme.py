"""Colours and text sizes of the kiosk screens: normal and high-contrast themes, and the large-text scale."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HIGH_CONTRAST", "LARGE_TEXT_SCALE", "MIN_TOUCH_PX", "NORMAL", "THEMES", "Theme"]

RGBA = tuple[float, float, float, float]

LARGE_TEXT_SCALE = 1.35
# Touch targets at least 15 mm: 100 px is 25 mm on a 21.5" 1080x1920 panel (~100 dpi) and 17 mm on a
# 10.1" 1280x800 panel (~150 dpi).
MIN_TOUCH_PX = 100


@dataclass(frozen=True)
class Theme:
    """Colours of one theme (RGBA 0..1)."""

    name: str
    background: RGBA
    text: RGBA
    button: RGBA
    button_text: RGBA
    accent: RGBA
    alert: RGBA
    disabled_text: RGBA
    # Keypad keys that are not digits (次へ, 訂正): their own colour and a rounded shape.
    confirm: RGBA = (0.0, 0.45, 0.25, 1)
    erase: RGBA = (0.62, 0.3, 0.0, 1)


NORMAL = Theme(
    name="normal",
    background=(0.97, 0.97, 0.95, 1),
    text=(0.08, 0.08, 0.1, 1),
    button=(0.05, 0.33, 0.62, 1),
    button_text=(1, 1, 1, 1),
    accent=(0.0, 0.45, 0.25, 1),
    alert=(0.75, 0.05, 0.05, 1),
    disabled_text=(0.35, 0.35, 0.35, 1),
    confirm=(0.0, 0.45, 0.25, 1),
    erase=(0.62, 0.3, 0.0, 1),
)
HIGH_CONTRAST = Theme(
    name="high_contrast",
    background=(0, 0, 0, 1),
    text=(1, 1, 1, 1),
    button=(1, 0.85, 0, 1),
    button_text=(0, 0, 0, 1),
    accent=(0.4, 1, 0.4, 1),
    alert=(1, 0.3, 0.3, 1),
    disabled_text=(0.8, 0.8, 0.8, 1),
    confirm=(0.4, 1, 0.4, 1),
    erase=(1, 1, 1, 1),
)
THEMES = (NORMAL, HIGH_CONTRAST)
