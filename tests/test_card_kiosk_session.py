"""A resident's certificate session as the card sees it: which PIN the kiosk VERIFYs on which application.

Real boundaries: the card through pyscard → pcscd → vpcd → the card emulator (wrapped to count APDUs per
selected application), the central issuance service over Mosquitto, and the kiosk's runner and flow driven
as the screens drive them (the controller, without Kivy).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from device_drivers.card.constants import JpkiEf, KenhojoEf
from device_drivers.card.emulator.card import EmulatedCard
from device_drivers.card.emulator.personas import persona_by_name
from kiosk_app.flows import events as ev
from kiosk_app.flows.clock import monotonic_clock
from kiosk_app.flows.core import Event
from kiosk_app.flows.session import mask_name
from kiosk_app.runner import DeviceRunner, FolderA4, PcscCardSlot, RunnerParts
from kiosk_app.ui.controller import KioskController, Service
from madoguchi.contracts.catalog import load_sample_catalog
from tests.fixtures.issuance import KioskFactory
from tests.fixtures.pcsc import ApduCounter, InsertCard, PcscDaemon

pytestmark = [pytest.mark.pcsc, pytest.mark.mosquitto, pytest.mark.slow]


@dataclass
class Kiosk:
    """A kiosk whose card reader is the private pcscd's first vpcd reader."""

    controller: KioskController
    runner: DeviceRunner

    def wait_for(self, step: str, timeout: float = 30.0) -> None:
        """Pump device events (as the UI clock does) until the flow is at `step`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.controller.drain()
            if self.controller.step_name() == step:
                return
            time.sleep(0.05)
        raise AssertionError(f"the kiosk is at {self.controller.step_name()!r}, not {step!r}")

    def tap(self, *events: Event) -> None:
        for event in events:
            self.controller.send(event)


@pytest.fixture
def kiosk(pcsc_daemon: PcscDaemon, issuance_kiosk: KioskFactory, tmp_path: Path) -> Iterator[Kiosk]:
    """A started kiosk with the real card reader and the central issuance; no payment or printing needed."""
    catalog = load_sample_catalog()
    reader = pcsc_daemon.readers[0]
    parts = RunnerParts(
        catalog=catalog,
        card=PcscCardSlot(f"pcsc://{reader}", reader),
        a4=FolderA4(tmp_path / "a4"),
        receipt=None,
        terminal=None,
        issuance=issuance_kiosk("jp-999999-k71"),
        orders=None,
    )
    runner = DeviceRunner(parts)
    controller = KioskController.for_catalog(catalog, runner.execute, monotonic_clock)
    runner.attach(controller.post)
    runner.start()
    yield Kiosk(controller, runner)
    runner.stop()


@pytest.mark.parametrize("persona_name", ["kenhojo-pin-differs", "valid-adult"])
def test_the_kiosk_verifies_only_the_auth_pin_the_resident_typed(
    kiosk: Kiosk, insert_card: InsertCard, persona_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    """GIVEN a card whose 券面事項入力補助 PIN differs from its auth PIN (or, for valid-adult, is the same)
    WHEN the resident places it, types the auth PIN and goes on to the certificate choice THEN the card saw
    exactly one VERIFY with a PIN, on the JPKI AP; none at all on the 券面事項入力補助 AP, whose tries are
    unchanged; the My Number EF was never read; the confirmation screen shows the resident's own name
    (masked) but no log line holds it; and when the card is pulled the session's name and central session
    are gone."""
    caplog.set_level(logging.DEBUG)
    persona = persona_by_name(persona_name)
    counters: list[ApduCounter] = []

    def count(card: EmulatedCard) -> ApduCounter:
        counters.append(ApduCounter(card))
        return counters[-1]

    kiosk.controller.start(Service.CERTIFICATE)
    kiosk.tap(ev.ChooseLanguage("ja"))
    kiosk.wait_for("place_card")
    inserted = insert_card(persona, wrap=count)
    kiosk.wait_for("pin_entry")
    kiosk.tap(*(ev.Digit(d) for d in persona.pin), ev.Confirm())
    kiosk.wait_for("name_confirm")
    flow_session = kiosk.controller.certificate.context.session
    shown = kiosk.controller.certificate.view().masked_name
    kiosk.tap(ev.Confirm())
    kiosk.wait_for("choose_type")
    assert kiosk.controller.certificate.view().offers  # the central answered for this resident

    (seen,) = counters
    assert seen.pin_verifies == Counter({"JPKI": 1})
    assert seen.verifies["kenhojo"] == 0
    assert ("kenhojo", KenhojoEf.MY_NUMBER) not in seen.reads
    assert inserted.card.tries_left("kenhojo", KenhojoEf.PIN) == persona.kenhojo_tries
    assert inserted.card.tries_left("JPKI", JpkiEf.AUTH_PIN) == persona.auth_tries
    assert shown == mask_name(persona.full_name)

    inserted.remove()
    kiosk.wait_for("home")
    assert kiosk.runner.wait_idle(15)
    assert flow_session is not None and flow_session.wiped and flow_session.name == ""
    assert kiosk.runner.certificates is not None and not kiosk.runner.certificates.live
    logs = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert "<redacted>" in logs  # the card's APDUs were logged at DEBUG, the VERIFY redacted
    for secret in (persona.full_name, persona.full_name.split()[1], persona.address, persona.my_number):
        assert secret not in logs


@pytest.mark.parametrize("language", ["vi", "ne"])
def test_a_refusal_reaches_the_screen_in_the_language_the_resident_chose(
    kiosk: Kiosk, insert_card: InsertCard, language: str
) -> None:
    """GIVEN a resident who chose Vietnamese (or Nepali) on the kiosk and whose card certificate is revoked
    WHEN they place the card and type the PIN THEN the refusal screen's reason and where-to-go are the
    central's texts in that language, not Japanese."""
    from central_broker.issuance.refusal_texts import builtin_refusal

    persona = persona_by_name("revoked-cert")
    kiosk.controller.start(Service.CERTIFICATE)
    kiosk.tap(ev.ChooseLanguage(language))
    kiosk.wait_for("place_card")
    insert_card(persona)
    kiosk.wait_for("pin_entry")
    kiosk.tap(*(ev.Digit(d) for d in persona.pin), ev.Confirm())
    kiosk.wait_for("refused")
    refusal = kiosk.controller.certificate.view().refusal
    assert refusal is not None and refusal.kind == "certificate_revoked"
    expected = builtin_refusal("certificate_revoked")
    assert refusal.reason == expected.reason.text(language)
    assert refusal.where_to_go == expected.where_to_go.text(language)
    assert refusal.reason != expected.reason.text("ja")
