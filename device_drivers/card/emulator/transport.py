"""In-process card transport (``emulated://card?persona=NAME``) and the bank of emulated cards.

Runs the emulator without pcscd: same APDUs, same card state machine, no PC/SC stack. The bank
keeps one card per persona so retry counters persist across sessions, like a real card.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from device_drivers.card.emulator.card import EmulatedCard
from device_drivers.card.emulator.material import JpkiTestCa
from device_drivers.card.emulator.personas import persona_by_name
from device_drivers.card.errors import CardRemoved

__all__ = ["EmulatedTransport", "EmulatorBank"]

_logger = logging.getLogger(__name__)


class EmulatorBank:
    """Emulated cards by persona name, all issued by one test CA (created at run time)."""

    def __init__(self, data_dir: Path | None = None, ca: JpkiTestCa | None = None) -> None:
        self.ca = ca or JpkiTestCa(data_dir)
        self._cards: dict[str, EmulatedCard] = {}
        self._lock = threading.Lock()

    def card(self, persona_name: str) -> EmulatedCard:
        """The card of `persona_name` (the same object every time: counters persist)."""
        with self._lock:
            if persona_name not in self._cards:
                persona = persona_by_name(persona_name)
                material = self.ca.material(persona) if persona.has_jpki else None
                self._cards[persona_name] = EmulatedCard(persona, material)
            return self._cards[persona_name]


class EmulatedTransport:
    """A `Transport` straight into an `EmulatedCard`; `pull()` simulates taking the card away."""

    def __init__(self, card: EmulatedCard, *, extended_length: bool = False) -> None:
        self._card = card
        self._extended = extended_length
        self._present = True
        card.power_on()

    @property
    def name(self) -> str:
        """``emulated:<persona>``."""
        return f"emulated:{self._card.persona.name}"

    @property
    def extended_length(self) -> bool:
        """Extended APDUs on request (the emulated card accepts them)."""
        return self._extended

    def pull(self) -> None:
        """Take the card away: power is lost and further APDUs raise `CardRemoved`."""
        self._present = False
        self._card.power_off()

    def transmit(self, apdu: bytes | bytearray) -> bytes:
        """Run one APDU on the emulated card."""
        if not self._present:
            raise CardRemoved(f"{self.name}: the card was removed")
        return self._card.process(bytes(apdu))

    def close(self) -> None:
        """Reset the card, like the PC/SC transport does on disconnect."""
        self._card.reset()
