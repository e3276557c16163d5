"""The language a resident picks is theirs alone: it carries from Home into the flow and is gone for the next."""

from __future__ import annotations

from kiosk_app.flows import events as ev
from kiosk_app.flows.clock import monotonic_clock
from kiosk_app.ui.controller import KioskController, Service
from madoguchi.contracts.catalog import load_sample_catalog


def test_the_next_resident_is_greeted_in_the_kiosks_language() -> None:
    """GIVEN a resident who picked Tiếng Việt on Home WHEN they start, then cancel THEN their screens were in
    Vietnamese, and Home is back in Japanese for whoever comes next."""
    commands: list[object] = []
    controller = KioskController.for_catalog(load_sample_catalog(), commands.append, monotonic_clock)
    controller.set_home_language("vi")
    assert controller.language == "vi"
    controller.start(Service.CERTIFICATE)
    assert controller.step_name() != "home" and controller.language == "vi"
    controller.send(ev.Cancel())
    assert controller.step_name() == "home"
    assert controller.language == "ja"
