"""One error hierarchy for every device, translated at the driver boundary.

Drivers raise only these. Each error carries a stable `code` for logs, events and the fleet
link, and a `message_key` that the kiosk app translates into a resident-facing message.
Neither may contain personal data or a PIN.
"""

from __future__ import annotations

__all__ = [
    "CardError",
    "DeviceError",
    "DeviceUnavailable",
    "PaymentError",
    "PrinterError",
    "ScannerError",
]


class DeviceError(Exception):
    """Base of every device error.

    Args:
        code: stable machine-readable code, e.g. ``printer.paper_out``.
        detail: technical detail for staff and logs (no personal data, no PIN).
        message_key: translation key of the resident-facing message.
    """

    code = "device.error"
    message_key = "device_error"

    def __init__(self, detail: str = "", *, code: str | None = None, message_key: str | None = None) -> None:
        super().__init__(detail or self.code)
        self.detail = detail
        if code is not None:
            self.code = code
        if message_key is not None:
            self.message_key = message_key


class DeviceUnavailable(DeviceError):
    """The device is absent, unplugged or not answering."""

    code = "device.unavailable"
    message_key = "device_unavailable"


class CardError(DeviceError):
    """Card reader or My Number card problem."""

    code = "card.error"
    message_key = "card_error"


class PrinterError(DeviceError):
    """Receipt or A4 printer problem."""

    code = "printer.error"
    message_key = "printer_error"


class PaymentError(DeviceError):
    """Payment terminal or payment link problem."""

    code = "payment.error"
    message_key = "payment_error"


class ScannerError(DeviceError):
    """Barcode / QR scanner problem."""

    code = "scanner.error"
    message_key = "scanner_error"
