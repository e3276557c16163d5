"""Payment terminal errors, all under `device_drivers.errors.PaymentError` / `DeviceUnavailable`.

Each has a stable `code` and a `message_key` for the resident-facing text; `detail` is for staff
and logs and never contains card data, raw frames or PIN blocks.
"""

from __future__ import annotations

from device_drivers.errors import DeviceUnavailable, PaymentError

__all__ = [
    "AlreadyPaid",
    "InvalidAmount",
    "InvalidKioskId",
    "InvalidOrderId",
    "LinkFailure",
    "LinkLost",
    "OrderBlocked",
    "PaymentBusy",
    "PaymentError",
    "TerminalUnavailable",
    "VoidRefused",
]


class InvalidAmount(PaymentError):
    """Zero, negative, non-integer or over-limit amount; refused before anything is sent."""

    code = "payment.invalid_amount"
    message_key = "payment_invalid_amount"


class InvalidKioskId(PaymentError):
    """A kiosk id that cannot prefix a payment reference; refused before anything is journaled."""

    code = "payment.invalid_kiosk_id"
    message_key = "payment_contact_staff"


class InvalidOrderId(PaymentError):
    """An order id outside the allowed characters or length; refused before anything is journaled."""

    code = "payment.invalid_order"
    message_key = "payment_contact_staff"


class PaymentBusy(PaymentError):
    """Another payment operation is running; one operation at a time."""

    code = "payment.busy"
    message_key = "payment_busy"


class OrderBlocked(PaymentError):
    """The order has a payment whose outcome is not definite: staff must resolve it first."""

    code = "payment.order_blocked"
    message_key = "payment_contact_staff"


class AlreadyPaid(PaymentError):
    """The order already has an approved payment; a second one is refused."""

    code = "payment.already_paid"
    message_key = "payment_already_paid"


class VoidRefused(PaymentError):
    """A void that is not allowed: not a definite approval, not today, or not an exact reference."""

    code = "payment.void_refused"
    message_key = "payment_void_refused"


class LinkFailure(PaymentError):
    """A frame was not acknowledged after all tries (NAKs or T_ACK expiries)."""

    code = "payment.link_failure"
    message_key = "payment_terminal_not_answering"


class LinkLost(DeviceUnavailable):
    """The serial line went away (unplugged, closed, I/O error)."""

    code = "payment.link_lost"
    message_key = "payment_terminal_unavailable"


class TerminalUnavailable(DeviceUnavailable):
    """The terminal cannot be opened or does not answer a status request."""

    code = "payment.unavailable"
    message_key = "payment_terminal_unavailable"
