"""The root widget: a bar with large text, high contrast, 時間を延長 and 職員を呼ぶ on every screen, the
staff-call banner, and the screens.

The 時間を延長 button shows on every step whose timeout waits for the resident, with the seconds left
beside it in the last `COUNTDOWN_S` seconds. The staff-call banner ("staff have been called", then
"staff are coming") lies over the current screen, which stays as it was.

`build_root()` is the one factory used by the app and by the UI tests. It loads the `.kv` files
(once per process), registers the fonts and wires the screens to the controller.
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk_app.flows.staff_call import CallStatus
from kiosk_app.ui.controller import KioskController
from kiosk_app.ui.fonts import FontFiles, register_fonts
from kiosk_app.ui.screens import SCREEN_NAMES
from kiosk_app.ui.screens.base import FlowScreen
from kiosk_app.ui.text import Texts
from kiosk_app.ui.theme import HIGH_CONTRAST, LARGE_TEXT_SCALE, NORMAL
from kiosk_app.ui.widgets import apply_theme

__all__ = ["KioskRoot", "build_root", "load_kv"]

_logger = logging.getLogger(__name__)


def _kv_files() -> list[Path]:
    base = Path(str(resources.files("kiosk_app.ui")))
    return [base / "root.kv", *(base / "screens" / f"{name}.kv" for name in SCREEN_NAMES)]


def load_kv() -> None:
    """Load the layout rules of the root and every screen (each file once per process)."""
    for path in _kv_files():
        if str(path) not in Builder.files:
            Builder.load_file(str(path))


class KioskRoot(BoxLayout):  # type: ignore[misc]
    """Top bar plus the screen manager; redraws when the controller changes."""

    background = ColorProperty(NORMAL.background)
    time_offered = BooleanProperty(False)
    staff_called = BooleanProperty(False)
    call_cancellable = BooleanProperty(False)

    def setup(self, controller: KioskController, fonts: FontFiles) -> None:
        """Create the screens and follow the controller."""
        from kiosk_app.ui.screens.choices import ChoicesScreen
        from kiosk_app.ui.screens.copies import CopiesScreen
        from kiosk_app.ui.screens.guide import GuideScreen
        from kiosk_app.ui.screens.home import HomeScreen
        from kiosk_app.ui.screens.keypad import KeypadScreen
        from kiosk_app.ui.screens.language import LanguageScreen
        from kiosk_app.ui.screens.message import MessageScreen
        from kiosk_app.ui.screens.prefill import PrefillScreen
        from kiosk_app.ui.screens.prefill_pin import PrefillPinScreen
        from kiosk_app.ui.screens.rating import RatingScreen
        from kiosk_app.ui.screens.ticket import TicketScreen

        self.controller = controller
        self.fonts = fonts
        classes: dict[str, type[FlowScreen]] = {
            "home": HomeScreen,
            "language": LanguageScreen,
            "message": MessageScreen,
            "keypad": KeypadScreen,
            "choices": ChoicesScreen,
            "copies": CopiesScreen,
            "rating": RatingScreen,
            "ticket": TicketScreen,
            "prefill": PrefillScreen,
            "prefill_pin": PrefillPinScreen,
            "guide": GuideScreen,
        }
        manager: ScreenManager = self.ids.manager
        manager.transition = NoTransition()
        for name in SCREEN_NAMES:
            screen = classes[name](name=name)
            screen.setup(controller, fonts)
            manager.add_widget(screen)
        controller.listeners.append(self.refresh)
        self.refresh()

    @property
    def manager(self) -> ScreenManager:
        """The screen manager."""
        return self.ids.manager

    def screen(self) -> FlowScreen:
        """The screen shown now."""
        screen: FlowScreen = self.manager.current_screen
        return screen

    def refresh(self, *_args: Any) -> None:
        """Show the controller's screen, redraw it and the bar, apply theme and text size."""
        controller = self.controller
        name = controller.screen()
        if self.manager.current != name:
            self.manager.current = name
        self.screen().refresh()
        texts = Texts(controller.translator(), self.fonts)
        self.ids.large.text = texts.t("button.large_text")
        self.ids.contrast.text = texts.t("button.high_contrast")
        self.ids.staff.text = texts.t("button.call_staff")
        self._overlays(texts)
        theme = HIGH_CONTRAST if controller.high_contrast else NORMAL
        self.background = theme.background
        apply_theme(self, theme, LARGE_TEXT_SCALE if controller.large_text else 1.0)

    def _overlays(self, texts: Texts) -> None:
        """The 時間を延長 button and count-down, and the staff-call banner."""
        controller = self.controller
        countdown = controller.countdown()
        self.time_offered = countdown.extendable
        self.ids.more_time.text = texts.t("button.more_time")
        seconds = countdown.seconds_left
        self.ids.countdown.text = "" if seconds is None else texts.t("time.left", seconds=seconds)
        call = controller.staff_call
        self.staff_called = call is not None
        self.call_cancellable = call is not None and call.cancellable
        if call is None:
            self.ids.staff_text.text = ""
        elif call.status is CallStatus.ACKNOWLEDGED:
            self.ids.staff_text.text = texts.t("staff.coming")
        else:
            self.ids.staff_text.text = texts.t("staff_called")
        self.ids.cancel_call.text = texts.t("button.cancel_staff_call")


def build_root(controller: KioskController, fonts: FontFiles | None = None) -> KioskRoot:
    """Register fonts, load the layouts and build the widget tree for `controller`."""
    files = register_fonts(fonts)
    load_kv()
    root = KioskRoot()
    root.setup(controller, files)
    return root
