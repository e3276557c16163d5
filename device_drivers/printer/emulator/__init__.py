"""The virtual ESC/POS printer: decodes what we send, renders each job to PNG + JSON, answers status."""

from __future__ import annotations

from device_drivers.printer.emulator.capabilities import Capabilities
from device_drivers.printer.emulator.machine import JobRecord, VirtualPrinterCore
from device_drivers.printer.emulator.server import VirtualPrinterServer
from device_drivers.printer.emulator.state import EmulatorState, read_state, write_state

__all__ = [
    "Capabilities",
    "EmulatorState",
    "JobRecord",
    "VirtualPrinterCore",
    "VirtualPrinterServer",
    "read_state",
    "write_state",
]
