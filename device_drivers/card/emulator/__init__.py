"""The My Number card emulator: personas, test JPKI CA, card state machine, vpcd client and an
in-process transport. Ships with the product (tests, `--simulate`, `kiosk card-emulator`).
"""

from __future__ import annotations

from device_drivers.card.emulator.card import EmulatedCard
from device_drivers.card.emulator.material import CardMaterial, JpkiTestCa
from device_drivers.card.emulator.personas import PERSONAS, Persona, persona_by_name
from device_drivers.card.emulator.transport import EmulatedTransport, EmulatorBank
from device_drivers.card.emulator.vpcd import VpcdLink

__all__ = [
    "PERSONAS",
    "CardMaterial",
    "EmulatedCard",
    "EmulatedTransport",
    "EmulatorBank",
    "JpkiTestCa",
    "Persona",
    "VpcdLink",
    "persona_by_name",
]
