"""The home screen tells staff when the kiosk's clock is not synchronised (issue 17 item 7).

The controller reads the same timesyncd flag file the agent's health reports (`clock_synced(flag)`), here
a file in a temporary folder: absent → the line shows, present → it goes at the next check.
"""

from __future__ import annotations

import re
from pathlib import Path

from kiosk_app.agent.system import clock_synced
from kiosk_app.flows.clock import FakeClock
from kiosk_app.flows.core import Command
from kiosk_app.ui.clock_status import CLOCK_CHECK_S, clock_probe
from kiosk_app.ui.controller import KioskController
from kiosk_app.ui.root import build_root
from madoguchi.contracts.catalog import load_sample_catalog
from madoguchi.contracts.languages import LANGUAGES
from tests.ui.conftest import Ui
from tests.ui.tofu import tofu_in

_TAGS = re.compile(r"\[[^\]]*\]")


def test_home_shows_the_unsynchronised_clock_until_ntp_answers(ui: Ui, tmp_path: Path) -> None:
    """GIVEN a kiosk without the timesyncd flag file WHEN the home screen shows THEN a line says the clock is not
    synchronised (in each of the nine languages, without tofu) and certificates stay available; WHEN the flag
    file appears THEN the line is gone at the next check."""
    flag = tmp_path / "synchronized"
    clock = FakeClock()
    commands: list[Command] = []
    controller = KioskController.for_catalog(
        load_sample_catalog(), commands.append, clock, clock_status=clock_probe(lambda: clock_synced(flag))
    )
    root = ui.mount(build_root(controller))
    home = root.screen()
    notice = home.ids.clock_notice
    assert root.manager.current == "home"
    assert "タイムサーバーと同期していません" in _TAGS.sub("", notice.text) and notice.opacity == 1
    assert notice.height > 0 and not home.ids.issuance.disabled and tofu_in(root) == []
    ui.screenshot("home-clock-unsynced")
    for language in LANGUAGES:  # every language has the line, and its font has every glyph of it
        controller.set_home_language(language)
        ui.frames(2)
        shown = _TAGS.sub("", notice.text)
        assert shown and "home.clock" not in shown and tofu_in(root) == [], language
    controller.set_home_language("en")
    ui.frames(2)
    assert "clock is not synchronised" in _TAGS.sub("", notice.text)

    flag.touch()
    controller.drain()  # checked only every CLOCK_CHECK_S
    ui.frames(2)
    assert notice.text != ""
    clock.advance(CLOCK_CHECK_S)
    controller.drain()
    ui.frames(2)
    assert (notice.text, notice.opacity) == ("", 0)


def test_an_implausible_clock_stops_certificates_with_a_reason(ui: Ui) -> None:
    """GIVEN a kiosk whose clock says 1970 (the saved clock was lost, no NTP) WHEN a resident taps the
    certificate button THEN nothing starts and the home screen says the clock is wrong; fees can still be paid."""
    commands: list[Command] = []
    controller = KioskController.for_catalog(
        load_sample_catalog(),
        commands.append,
        FakeClock(),
        clock_status=clock_probe(lambda: False, lambda: 0.0),
    )
    root = ui.mount(build_root(controller))
    home = root.screen()
    assert home.ids.issuance.disabled and not home.ids.register.disabled
    assert "証明書を交付できません" in _TAGS.sub("", home.ids.unavailable.text)
    assert home.ids.clock_notice.text == ""  # one message, not two
    ui.tap(home.ids.issuance)
    assert root.manager.current == "home" and controller.active is None
