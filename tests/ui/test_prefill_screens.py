"""書かない窓口 on the real screens: consent → card → PIN (wrong, tries left shown) → choice → done → home.

The runner is a stub answering the prefill commands as the card and the central would (the real card stack is
tested in tests/test_prefill_kiosk.py). Japanese and English always run; `KIOSK_UI_ALL_LANGUAGES=1` adds the
other languages. Every screen is checked for missing glyphs and saved as a screenshot.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

import pytest

from kiosk_app.flows import events as ev
from kiosk_app.flows import prefill_events as pe
from kiosk_app.flows.clock import FakeClock
from kiosk_app.flows.core import Command
from kiosk_app.i18n import keys_prefill as k
from kiosk_app.ui.controller import KioskController
from kiosk_app.ui.root import KioskRoot, build_root
from madoguchi.contracts.catalog import load_sample_catalog
from madoguchi.contracts.languages import LANGUAGES
from madoguchi.contracts.queue import CounterStop, TicketView
from tests.ui.conftest import SIZE, Ui
from tests.ui.tofu import tofu_in

ORIENTATION = "portrait" if SIZE == "1080x1920" else "landscape"
CHECKED = LANGUAGES if os.environ.get("KIOSK_UI_ALL_LANGUAGES") == "1" else ("ja", "en")
_TAGS = re.compile(r"\[[^\]]*\]|\{([^|}]*)\|[^}]*\}")


def _plain(markup: str) -> str:
    return _TAGS.sub(lambda m: m.group(1) or "", markup)


def _ticket() -> TicketView:
    token = "t" * 32
    now = int(time.time() * 1000)
    return TicketView(
        number="A-12",
        category="moving",
        counters=[CounterStop(counter="shimin_3")],
        people_ahead=0,
        wait_min_minutes=0,
        wait_max_minutes=5,
        issued_at=now,
        status_token=token,
        status_url=f"https://q.example.jp/s/{token}",
        expires_at=now + 3_600_000,
    )


class PrefillKiosk:
    """The root widget with a controller whose runner answers like the card (PIN 1234) and the central."""

    def __init__(self, ui: Ui, language: str) -> None:
        self.ui = ui
        self.controller = KioskController.for_catalog(
            load_sample_catalog(), self.execute, FakeClock(), language=language
        )
        self.commands: list[Command] = []
        self.root: KioskRoot = ui.mount(build_root(self.controller))

    def execute(self, command: Command) -> None:
        self.commands.append(command)
        post = self.controller.post
        if isinstance(command, pe.ReadKenhojoTries):
            post(pe.KenhojoTriesRead(3))
        elif isinstance(command, pe.ReadBasicFour):
            post(pe.BasicFourRead("窓＊ 花＊") if command.pin == "1234" else pe.KenhojoPinWrong(2))
        elif isinstance(command, pe.AttachPrefill):
            post(pe.PrefillAttached("A-12"))

    def settle(self) -> None:
        self.controller.drain()
        self.ui.frames(2)

    def texts(self) -> list[str]:
        from kivy.uix.label import Label

        return [
            _plain(w.text)
            for w in self.root.screen().walk(restrict=True)
            if isinstance(w, Label) and w.opacity
        ]

    def button(self, fragment: str) -> Any:
        from kivy.uix.button import Button

        found = [
            w
            for w in self.root.screen().walk(restrict=True)
            if isinstance(w, Button) and w.opacity and not w.disabled and fragment in _plain(w.text)
        ]
        assert found, f"no button with {fragment!r}: {self.texts()}"
        return found[0]

    def press(self, fragment: str) -> None:
        self.ui.tap(self.button(fragment))
        self.settle()

    def shot(self, language: str) -> None:
        self.ui.screenshot(f"prefill-{language}-{ORIENTATION}-{self.controller.step_name()}")
        assert tofu_in(self.root) == [], f"missing glyphs on {self.controller.step_name()}"


@pytest.mark.parametrize("language", CHECKED)
def test_resident_consents_types_the_pin_and_sends_the_forms_to_the_counter(ui: Ui, language: str) -> None:
    """GIVEN a ticket just taken WHEN the resident opens 書かない窓口 THEN the consent says what is read and what is
    not; after the card, a wrong PIN brings the keypad back with 2 tries left (nothing retried); the right PIN
    offers print or counter with the masked name; counter → done with the number; OK → home, screen empty."""
    kiosk = PrefillKiosk(ui, language)
    kiosk.controller.set_home_language(language)
    t = kiosk.controller.translator()

    def plain(key: str, **params: object) -> str:
        return _plain(t.tr(key, **params))

    kiosk.controller.start_prefill(("shussei",), _ticket())
    kiosk.settle()
    assert kiosk.root.manager.current == "prefill"
    shown = "\n".join(kiosk.texts())
    assert plain(k.CONSENT_READ) in shown and plain(k.CONSENT_NOT_READ) in shown
    kiosk.shot(language)

    kiosk.press(plain(k.CONSENT_AGREE))
    assert kiosk.controller.step_name() == "prefill_insert_card"
    kiosk.shot(language)
    kiosk.controller.post(ev.CardInserted())
    kiosk.settle()
    kiosk.settle()
    assert kiosk.root.manager.current == "prefill_pin"
    assert plain(k.PIN_TRIES, count=3) in "\n".join(kiosk.texts())
    for digit in "9999":
        kiosk.press(digit)
    kiosk.ui.tap(kiosk.root.screen().ids.confirm)
    kiosk.settle()
    kiosk.settle()
    assert kiosk.root.manager.current == "prefill_pin"
    shown = "\n".join(kiosk.texts())
    assert plain(k.PIN_WRONG) in shown and plain(k.PIN_TRIES, count=2) in shown
    kiosk.shot(language)
    assert sum(isinstance(c, pe.ReadBasicFour) for c in kiosk.commands) == 1  # never retried by itself

    for digit in "1234":
        kiosk.press(digit)
    kiosk.ui.tap(kiosk.root.screen().ids.confirm)
    kiosk.settle()
    kiosk.settle()
    assert kiosk.controller.step_name() == "prefill_choose"
    assert plain(k.CHOOSE_TITLE, name="窓＊ 花＊") in "\n".join(kiosk.texts())
    kiosk.shot(language)
    kiosk.press(plain(k.CHOOSE_COUNTER, number="A-12"))
    kiosk.settle()
    assert kiosk.controller.step_name() == "prefill_done"
    assert plain(k.DONE_COUNTER, number="A-12") in "\n".join(kiosk.texts())
    kiosk.shot(language)
    kiosk.press(plain("button.ok"))
    assert kiosk.root.manager.current == "home"
    assert any(isinstance(c, pe.WipePrefill) for c in kiosk.commands)
