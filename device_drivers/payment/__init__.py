"""Cashless payment terminal driver: Kiosk Payment Link v1 over serial, journal, simulator.

Layers: `kpl` (codec: framing and messages, swappable via `codec.Codec`), `link` (ACK/NAK,
retransmission, inter-byte timer), `session` (transactions and recovery by inquiry), `journal`
(SQLite WAL + synchronous=FULL), `driver` (the facade the app uses), `transport` (serial port
from the device URL), `simulator` (a terminal on a pty, shipped with the product).
"""

from __future__ import annotations

from device_drivers.payment.driver import PaymentTerminal, TerminalStatus, validate_amount
from device_drivers.payment.journal import Journal
from device_drivers.payment.messages import Method, Phase, ResultCode
from device_drivers.payment.records import (
    JournalState,
    Operation,
    PaymentEvent,
    PaymentProgress,
    PaymentRecord,
    PaymentStateChanged,
)
from device_drivers.payment.transport import port_from_url

__all__ = [
    "Journal",
    "JournalState",
    "Method",
    "Operation",
    "PaymentEvent",
    "PaymentProgress",
    "PaymentRecord",
    "PaymentStateChanged",
    "PaymentTerminal",
    "Phase",
    "ResultCode",
    "TerminalStatus",
    "port_from_url",
    "validate_amount",
]
