"""Kiosk ids and order ids accepted by the payment journal, checked before anything is journaled.

The kiosk id prefixes every reference sent to the terminal (reference §2.5: "id per the MQTT
contract"), so it follows the fleet's device id pattern; KPL fields allow only bytes 0x20-0x7E,
and this pattern is well inside that. The order id never goes on the wire but is journaled,
logged and shown to staff, so it is kept to a plain ASCII token that cannot look like an option.
"""

from __future__ import annotations

import re

from device_drivers.payment.errors import InvalidKioskId, InvalidOrderId
from madoguchi.contracts.base import DEVICE_ID_PATTERN

__all__ = ["KIOSK_ID_PATTERN", "ORDER_ID_PATTERN", "validate_kiosk_id", "validate_order_id"]

KIOSK_ID_PATTERN = DEVICE_ID_PATTERN
ORDER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
KIOSK_ID_RULE = "3-64 characters a-z, 0-9 and '-': the kiosk's device id, e.g. jp-131016-k03"
ORDER_ID_RULE = (
    "1-64 characters A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit, e.g. P00000000012"
)
_SHOWN = 40


def _shown(value: object) -> str:
    text = repr(value)
    if isinstance(value, str) and len(value) > _SHOWN:
        text = f"{value[:_SHOWN]!r}... ({len(value)} characters)"
    return text


def validate_kiosk_id(value: object) -> str:
    """The kiosk id if it may prefix payment references; else `InvalidKioskId` saying what to use."""
    if not isinstance(value, str) or not re.fullmatch(KIOSK_ID_PATTERN, value):
        raise InvalidKioskId(
            f"kiosk id {_shown(value)} cannot prefix payment references; use {KIOSK_ID_RULE}"
        )
    return value


def validate_order_id(value: object) -> str:
    """The order id if the journal accepts it; else `InvalidOrderId` saying what to use."""
    if not isinstance(value, str) or not re.fullmatch(ORDER_ID_PATTERN, value):
        raise InvalidOrderId(f"order id {_shown(value)} is not accepted; use {ORDER_ID_RULE}")
    return value
