"""Device drivers of the kiosk: card reader, printers, payment terminal, scanner, and their emulators.

Drivers are chosen from device URLs in the kiosk configuration (see `madoguchi.device_urls`);
nothing here starts threads or opens devices at import.
"""

from __future__ import annotations

from device_drivers.errors import DeviceError
from madoguchi.device_urls import DeviceKind, DeviceUrl, parse_device_url

__all__ = ["DeviceError", "DeviceKind", "DeviceUrl", "parse_device_url"]
