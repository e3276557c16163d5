"""My Number card driver: PC/SC readers, JPKI authentication, 券面事項入力補助, card events.

Open a card with `open_card(url)` (``pcsc://NAME`` or ``emulated://card?persona=NAME``); watch
readers with `CardEventMonitor`; errors are in `device_drivers.card.errors`. The emulator lives
in `device_drivers.card.emulator`. Nothing here runs at import.
"""

from __future__ import annotations

from device_drivers.card.constants import CardKind
from device_drivers.card.events import CardEvent, CardEventKind, CardEventMonitor
from device_drivers.card.jpki import AuthResult
from device_drivers.card.pin import Pin, read_pin
from device_drivers.card.session import CardSession, open_card, open_transport
from device_drivers.card.verify import VerifiedAuth, verify_authentication

__all__ = [
    "AuthResult",
    "CardEvent",
    "CardEventKind",
    "CardEventMonitor",
    "CardKind",
    "CardSession",
    "Pin",
    "VerifiedAuth",
    "open_card",
    "open_transport",
    "read_pin",
    "verify_authentication",
]
