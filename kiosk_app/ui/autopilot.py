"""Autopilot: plays a resident through a scenario on the real screens, tapping what a person would tap.

Scenarios are data: `Tap` (a widget id on the current screen or the bar, or a fragment of a button's
visible text), `TapWhile` (the same button again and again while the flow stays at a step), `Physical` (insert or remove the card — what the resident does with their hands) and
`WaitFor` (a flow step, pumping Kivy frames so device answers arrive). With `screenshots`, every new
screen is saved as `<n>-<step>.png`. It does not scroll lists: tap rows that are in view. Used by the UI tests and by `kiosk run --autopilot`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kiosk_app.flows import events as ev
from kiosk_app.ui.controller import KioskController
from kiosk_app.ui.root import KioskRoot

__all__ = [
    "SCENARIOS",
    "Autopilot",
    "AutopilotError",
    "AutopilotStopped",
    "Physical",
    "Tap",
    "TapWhile",
    "WaitFor",
    "register_scenario",
    "scenario_actions",
]

_logger = logging.getLogger(__name__)
_TAGS = re.compile(r"\[[^\]]*\]")


@dataclass(frozen=True)
class Tap:
    """Tap a widget: an id, or a fragment of a visible button text (`text=True`)."""

    target: str
    text: bool = False


@dataclass(frozen=True)
class TapWhile:
    """Tap the button whose visible text contains `target` as long as the flow is at `step` (at most `limit`
    times): answer every remaining guide question alike, however many the answers show."""

    target: str
    step: str
    limit: int = 20


@dataclass(frozen=True)
class Physical:
    """`insert_card` or `remove_card`."""

    action: str


@dataclass(frozen=True)
class WaitFor:
    """Wait until the flow is at `step` (a step value such as `pin_entry`)."""

    step: str
    timeout_s: float = 30.0


Action = Tap | TapWhile | Physical | WaitFor


def _pin(pin: str) -> list[Action]:
    return [Tap(digit, text=True) for digit in pin]


CERTIFICATE: tuple[Action, ...] = (
    Tap("issuance"), WaitFor("language"), Tap("日本語", text=True), WaitFor("place_card"),
    Physical("insert_card"), WaitFor("pin_entry"), *_pin("1234"), Tap("confirm"), WaitFor("name_confirm"),
    Tap("はい", text=True), WaitFor("choose_type"), Tap("住民票", text=True), WaitFor("choose_options"),
    Tap("next"), WaitFor("copies"), Tap("next"), WaitFor("fee_summary"), Tap("次へ", text=True),
    WaitFor("choose_method"), Tap("クレジット", text=True), WaitFor("take_certificate", 90.0), Tap("OK", text=True),
    WaitFor("take_card"), Physical("remove_card"), WaitFor("rating"), Tap("とても良い", text=True), WaitFor("home"),
)  # fmt: skip


def register_scenario(code_digits: str = "1001") -> tuple[Action, ...]:
    """Pay the order whose code is typed as `code_digits` (a real order code without its leading P)."""
    return (
        Tap("register"), WaitFor("scan"), Tap("番号", text=True), WaitFor("enter_code"), *_pin(code_digits),
        Tap("confirm"), WaitFor("order_summary"), Tap("next"), WaitFor("choose_method"), Tap("クレジット", text=True),
        WaitFor("done", 60.0), Tap("OK", text=True), WaitFor("home"),
    )  # fmt: skip


# 整理券: a number for 引っ越し (online, or from the kiosk's own block while the centre cannot be reached).
QUEUE: tuple[Action, ...] = (
    Tap("queue"), WaitFor("queue_categories"), Tap("引っ越し", text=True), WaitFor("queue_done", 60.0), Tap("ok"),
    WaitFor("home"),
)  # fmt: skip

# 手続きガイド: 転入, the first question わからない and the rest はい, one ticket for the listed counters, a rating.
GUIDE: tuple[Action, ...] = (
    Tap("guide"), WaitFor("guide_events"), Tap("転入", text=True), WaitFor("guide_question"),
    Tap("わからない", text=True), TapWhile("はい", "guide_question"), WaitFor("guide_result"),
    Tap("この手続きで整理券を取る", text=True), WaitFor("guide_ticket", 60.0), Tap("ok"), WaitFor("guide_rating"),
    Tap("とても良い", text=True), WaitFor("home"),
)  # fmt: skip

SCENARIOS: dict[str, tuple[Action, ...]] = {
    "certificate": CERTIFICATE,
    "register": register_scenario(),
    "queue": QUEUE,
    "guide": GUIDE,
}


def scenario_actions(name: str, _device_id: str = "") -> tuple[Action, ...]:
    """The actions of `certificate`, `register` (fake order 1001), `register:P<11 digits>` (a real order), `queue`
    or `guide`.

    Raises:
        AutopilotError: unknown scenario name.
    """
    kind, _, code = name.partition(":")
    if kind == "register" and code:
        return register_scenario(code.removeprefix("P"))
    if name in SCENARIOS:
        return SCENARIOS[name]
    raise AutopilotError(
        f"unknown autopilot scenario {name!r}; use certificate, register, register:<order code>, queue or guide"
    )


class AutopilotError(RuntimeError):
    """The scenario could not go on (a step never came, a button is missing)."""


class AutopilotStopped(AutopilotError):
    """Asked to stop (Ctrl-C, SIGTERM) in the middle of a scenario."""


class Autopilot:
    """Drives `root` (already on the window) with synthetic touches."""

    def __init__(
        self,
        root: KioskRoot,
        controller: KioskController,
        *,
        screenshots: Path | None = None,
        physical: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        stopped: Callable[[], bool] = lambda: False,
    ) -> None:
        self.root = root
        self.stopped = stopped
        self.controller = controller
        self.screenshots = screenshots
        self.physical = physical or self._post_card_event
        self.clock = clock
        self.saved: list[Path] = []
        self._last_step = ""

    def play(self, scenario: Sequence[Action]) -> list[Path]:
        """Run the actions in order; return the screenshots written."""
        self._frames(2)
        self._maybe_screenshot()
        for action in scenario:
            if self.stopped():
                raise AutopilotStopped(f"stopped at {self.controller.step_name()}")
            if isinstance(action, Tap):
                self._tap(action)
            elif isinstance(action, TapWhile):
                self._tap_while(action)
            elif isinstance(action, Physical):
                self.physical(action.action)
            else:
                self._wait(action)
            self._frames(2)
            self._maybe_screenshot()
        return self.saved

    def _post_card_event(self, action: str) -> None:
        event = {"insert_card": ev.CardInserted(), "remove_card": ev.CardRemoved()}[action]
        self.controller.post(event)

    def _frames(self, count: int) -> None:
        from kivy.base import EventLoop

        for _ in range(count):
            self.controller.drain()
            EventLoop.idle()

    def _wait(self, action: WaitFor) -> None:
        deadline = self.clock() + action.timeout_s
        while self.controller.step_name() != action.step:
            if self.stopped():
                raise AutopilotStopped(f"stopped while waiting for {action.step}")
            if self.clock() > deadline:
                raise AutopilotError(
                    f"waited {action.timeout_s:g} s for {action.step}; still at {self.controller.step_name()}"
                )
            self._frames(1)

    def _tap_while(self, action: TapWhile) -> None:
        for _ in range(action.limit):
            if self.controller.step_name() != action.step:
                return
            self._tap(Tap(action.target, text=True))
            self._frames(2)
            self._maybe_screenshot()
        if self.controller.step_name() == action.step:
            raise AutopilotError(
                f"still at {action.step} after tapping {action.target!r} {action.limit} times"
            )

    def _tap(self, action: Tap) -> None:
        from kivy.tests.common import UnitTestTouch
        from kivy.uix.button import Button

        screen = self.root.screen()
        if action.text:
            buttons = [
                w for w in screen.walk(restrict=True)
                if isinstance(w, Button) and not w.disabled and w.opacity and action.target in _TAGS.sub("", w.text)
            ]  # fmt: skip
            widget = buttons[0] if buttons else None
        else:
            widget = screen.ids.get(action.target) or self.root.ids.get(action.target)
        if widget is None:
            raise AutopilotError(f"nothing to tap for {action.target!r} on {self.controller.step_name()}")
        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()

    def _maybe_screenshot(self) -> None:
        step = self.controller.step_name()
        if self.screenshots is None or step == self._last_step:
            return
        from kivy.core.window import Window

        self._last_step = step
        self.screenshots.mkdir(parents=True, exist_ok=True)
        path = Window.screenshot(name=str(self.screenshots / f"{len(self.saved) + 1:02d}-{step}.png"))
        self.saved.append(Path(path))
        _logger.info("autopilot screenshot %s", path)
