"""Base of every screen: access to the controller, the texts of the current language, and button building."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.uix.screenmanager import Screen

from kiosk_app.flows.core import Event
from kiosk_app.ui.controller import KioskController
from kiosk_app.ui.fonts import FontFiles
from kiosk_app.ui.text import Texts
from kiosk_app.ui.widgets import KButton

__all__ = ["FlowScreen"]


class FlowScreen(Screen):  # type: ignore[misc]
    """A screen that redraws itself from the controller's current view."""

    def setup(self, controller: KioskController, fonts: FontFiles) -> None:
        """Attach the controller and fonts (once, when the root is built)."""
        self.controller = controller
        self.fonts = fonts

    @property
    def texts(self) -> Texts:
        """Markup helpers in the current language."""
        return Texts(self.controller.translator(), self.fonts)

    def refresh(self) -> None:
        """Redraw from `self.controller.view()` (override)."""

    def button(self, text: str, action: Event | Callable[[], None], **kwargs: Any) -> KButton:
        """A kiosk button whose release sends `action` (an event) or calls it."""
        widget = KButton(text=text, **kwargs)

        def release(*_args: Any) -> None:
            if isinstance(action, Event):
                self.controller.send(action)
            else:
                action()

        widget.bind(on_release=release)
        return widget
