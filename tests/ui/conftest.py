"""Kivy UI tests: one window per pytest process (kivy-testing.md §4/§6); run only when KIOSK_UI_TESTS=1.

Run them in their own process per screen size, e.g.
    KIOSK_UI_TESTS=1 KIOSK_SIZE=1080x1920 .venv/bin/python -m pytest -q -p no:cacheprovider tests/ui
    KIOSK_UI_TESTS=1 KIOSK_SIZE=1280x800 .venv/bin/python -m pytest -q -p no:cacheprovider tests/ui
Screenshots go to $KIOSK_UI_ARTIFACTS (default build/ui-artifacts/<size>/).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk_app.ui.app import MULTISAMPLES

# The suite run (`pytest` from the top) must not import Kivy or open a window: skip collecting here.
collect_ignore_glob = [] if os.environ.get("KIOSK_UI_TESTS") == "1" else ["test_*.py"]

SIZE = os.environ.get("KIOSK_SIZE", "1280x800")


@pytest.fixture(scope="session")
def window() -> Iterator[Any]:
    """The one Kivy window of this process, at KIOSK_SIZE, without real input providers."""
    width, height = (int(part) for part in SIZE.lower().split("x"))
    from kivy.config import Config

    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "resizable", "0")
    Config.set("graphics", "multisamples", str(MULTISAMPLES))  # as the kiosk's window
    for option in list(Config.options("input")):
        Config.remove_option("input", option)
    from kivy.base import EventLoop
    from kivy.core.window import Window

    EventLoop.ensure_window()
    yield Window


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots are written."""
    path = Path(os.environ.get("KIOSK_UI_ARTIFACTS", f"build/ui-artifacts/{SIZE}"))
    path.mkdir(parents=True, exist_ok=True)
    return path


class Ui:
    """Mount, pump frames, tap widgets and take screenshots (kivy-testing.md §4)."""

    def __init__(self, window: Any, artifacts: Path) -> None:
        self.window = window
        self.artifacts = artifacts

    def frames(self, count: int = 2) -> None:
        from kivy.base import EventLoop

        for _ in range(count):
            EventLoop.idle()

    def mount(self, root: Any) -> Any:
        self.window.add_widget(root)
        self.frames(3)
        return root

    def tap(self, widget: Any) -> None:
        from kivy.tests.common import UnitTestTouch

        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()
        self.frames(2)

    def screenshot(self, name: str) -> Path:
        self.frames(2)
        written = self.window.screenshot(name=str(self.artifacts / f"{name}.png"))
        return Path(written)

    def clear(self) -> None:
        for child in list(self.window.children):
            self.window.remove_widget(child)


@pytest.fixture
def ui(window: Any, artifacts: Path) -> Iterator[Ui]:
    """Per-test helper; removes everything from the window afterwards."""
    helper = Ui(window, artifacts)
    yield helper
    helper.clear()


Finder = Callable[[Any, str], Any]
