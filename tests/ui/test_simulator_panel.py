"""The simulator's hands under the screen: a person on a laptop puts a persona's card in and takes it out."""

from __future__ import annotations

from kiosk_app.flows import events as ev
from kiosk_app.flows.clock import monotonic_clock
from kiosk_app.runner.card_slot import EmulatedCardSlot
from kiosk_app.ui.controller import KioskController, Service
from kiosk_app.ui.fake_runner import FakeRunner
from kiosk_app.ui.simulator_panel import build_panel
from madoguchi.contracts.catalog import load_sample_catalog
from tests.ui.conftest import Ui


def test_the_panel_inserts_the_chosen_persona_and_removes_the_card(ui: Ui) -> None:
    """GIVEN the place-card step and the simulator panel WHEN the person picks a persona and taps Insert card
    THEN the kiosk reads the card and asks for the PIN; WHEN they tap Remove card THEN the session ends."""
    catalog = load_sample_catalog()
    runner = FakeRunner(catalog)
    controller = KioskController.for_catalog(catalog, runner.execute, monotonic_clock)
    runner.attach(controller.post)
    slot = EmulatedCardSlot()
    slot.start(controller.post)
    controller.start(Service.CERTIFICATE)
    controller.send(ev.ChooseLanguage("ja"))
    assert controller.step_name() == "place_card"
    panel = ui.mount(build_panel(slot))
    panel.ids["persona"].text = "pin-one-try"
    ui.tap(panel.ids["insert_card"])
    controller.drain()
    controller.drain()
    assert controller.step_name() == "pin_entry" and slot.persona == "pin-one-try" and slot.inserted
    ui.tap(panel.ids["remove_card"])
    controller.drain()
    assert controller.step_name() == "home" and not slot.inserted
