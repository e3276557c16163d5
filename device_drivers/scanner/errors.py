"""Scanner errors (subclasses of the one device error hierarchy)."""

from __future__ import annotations

from device_drivers.errors import DeviceUnavailable, ScannerError

__all__ = ["ScanRejected", "ScannerUnavailable"]


class ScannerUnavailable(DeviceUnavailable, ScannerError):
    """The scanner's serial port cannot be opened or went away."""

    code = "scanner.unavailable"
    message_key = "scanner_unavailable"


class ScanRejected(ScannerError):
    """A scan that is not text we can use (too long, not UTF-8 or Shift_JIS, control characters)."""

    code = "scanner.rejected"
    message_key = "scanner_rejected"
