"""`KioskApp`: the Kivy application around `build_root()`; the UI clock drains device events into the flows.

The window size comes from the `[ui] orientation` (portrait 1080x1920, landscape 1280x800) and must be
set before Kivy opens its window, so call `configure_window()` first, then `KioskApp(controller).run()`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from madoguchi.config.kiosk import Orientation

__all__ = ["MULTISAMPLES", "TICK_SECONDS", "configure_window", "make_app"]

_logger = logging.getLogger(__name__)

TICK_SECONDS = 0.2
# No multisample anti-aliasing: the screens are flat rectangles and text (textures), and MSAA buffers cost
# ~60 MB more at 1080x1920 with software GL (GPU memory and bandwidth on the Pi).
MULTISAMPLES = 0


def configure_window(orientation: Orientation, *, fullscreen: bool = False, extra_height: int = 0) -> None:
    """Fix the window size (and no real mouse emulation of multitouch) before the window exists.

    `extra_height` adds room below the kiosk screen (the simulator's panel).
    """
    from kivy.config import Config

    width, height = orientation.size
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height + extra_height))
    Config.set("graphics", "multisamples", str(MULTISAMPLES))
    Config.set("graphics", "resizable", "0")
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")


def make_app(
    controller: Any, panel: Callable[[], Any] | None = None, on_tick: Callable[[], None] | None = None
) -> Any:
    """A Kivy `App` showing `controller`'s flows; the UI clock calls `controller.drain()` every 0.2 s.

    `panel` builds an extra strip shown below the kiosk screen (the simulator's hands); `on_tick` runs on
    the UI loop after each drain (the systemd watchdog: a hung UI stops the pings and is restarted).
    """
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.uix.boxlayout import BoxLayout

    from kiosk_app.ui.root import build_root

    class KioskApp(App):  # type: ignore[misc]
        title = "Madoguchi"

        def build(self) -> Any:
            root = build_root(controller)

            def tick(_dt: float) -> None:
                controller.drain()
                if on_tick is not None:
                    on_tick()

            Clock.schedule_interval(tick, TICK_SECONDS)
            if panel is None:
                return root
            frame = BoxLayout(orientation="vertical")
            frame.add_widget(root)
            frame.add_widget(panel())
            return frame

    return KioskApp()
