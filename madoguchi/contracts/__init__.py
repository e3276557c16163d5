"""Contracts shared by kiosk and central code: MQTT v1 topics and payloads, signed envelopes, catalog.

One source of truth: both sides import these models; `docs/schemas/` is exported from them.
"""

from __future__ import annotations

from madoguchi.contracts.base import CONTRACT_VERSION, ContractError, DeviceId, Message

__all__ = ["CONTRACT_VERSION", "ContractError", "DeviceId", "Message"]
