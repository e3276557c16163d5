"""The slip scanner: a serial barcode/QR scanner in presentation mode, and its emulators.

`open_scanner(url)` picks the implementation from the device URL: `serial:///dev/kiosk/scanner?baud=9600`
(`SerialScanner`), `pty-sim://scanner` (the emulator on a pty, for `--simulate`), `emulated://scanner`
(in-process). Every scanner delivers each decoded code as text to `on_scan`, from its own thread.
"""

from __future__ import annotations

from device_drivers.scanner.emulator import EmulatedScanner, PtyScannerEmulator
from device_drivers.scanner.errors import ScannerUnavailable, ScanRejected
from device_drivers.scanner.reader import Scanner, SerialScanner, open_scanner

__all__ = [
    "EmulatedScanner",
    "PtyScannerEmulator",
    "ScanRejected",
    "Scanner",
    "ScannerUnavailable",
    "SerialScanner",
    "open_scanner",
]
