"""The device runner: executes the flows' commands on the real drivers and the central, posting events back.

`DeviceRunner` has the same interface as the UI's `FakeRunner` (`attach(post)`, `execute(command)`);
`build_runner()` makes one from the kiosk configuration (device URLs, the agent's MQTT link).
"""

from __future__ import annotations

from kiosk_app.runner.card_slot import CardSlot, EmulatedCardSlot, PcscCardSlot
from kiosk_app.runner.device_runner import DeviceRunner, RunnerParts
from kiosk_app.runner.outputs import A4Output, CupsA4, FolderA4, ReceiptOutput

__all__ = [
    "A4Output",
    "CardSlot",
    "CupsA4",
    "DeviceRunner",
    "EmulatedCardSlot",
    "FolderA4",
    "PcscCardSlot",
    "ReceiptOutput",
    "RunnerParts",
]
