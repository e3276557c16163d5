"""A Kivy window without an app loop, for the autopilot and benchmarks: mount the root, pump frames by hand.

Set `SDL_VIDEODRIVER=offscreen` before calling to run without a display (kivy-testing.md §4).
"""

from __future__ import annotations

import logging
from typing import Any

from kiosk_app.ui.app import MULTISAMPLES
from kiosk_app.ui.controller import KioskController
from madoguchi.config.kiosk import Orientation

__all__ = ["open_window"]

_logger = logging.getLogger(__name__)


def open_window(controller: KioskController, orientation: Orientation) -> Any:
    """Open the one window of this process at the orientation's size and mount the kiosk's root on it."""
    from kivy.config import Config

    width, height = orientation.size
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "resizable", "0")
    Config.set("graphics", "multisamples", str(MULTISAMPLES))
    for option in list(Config.options("input")):
        Config.remove_option("input", option)  # no real input devices: only synthetic touches
    from kivy.base import EventLoop
    from kivy.core.window import Window

    from kiosk_app.ui.root import build_root

    EventLoop.ensure_window()
    root = build_root(controller)
    Window.add_widget(root)
    for _ in range(3):
        EventLoop.idle()
    _logger.info("kiosk window %dx%d opened (%s)", width, height, orientation.value)
    return root
