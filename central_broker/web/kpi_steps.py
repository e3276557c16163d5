"""Names of the kiosk flows' steps on the KPI page.

A kiosk reports seconds per step under the step's id (`pin_entry`, `order_summary`: the values of the
certificate flow's `Step` and the register flow's `RegisterStep`); the page shows the English label below,
translated like any other text. A step this table does not know (a newer kiosk) is shown as sent.
"""

from __future__ import annotations

from central_broker.web.i18n import gettext_ as _

__all__ = ["STEP_LABELS", "step_label"]

STEP_LABELS = {
    # both flows
    "home": "Start screen",
    "choose_method": "Choosing the payment method",
    "checking_printer": "Checking the printer",
    "printer_unavailable": "Printer unavailable",
    "paying": "Paying",
    "payment_declined": "Payment declined",
    "payment_unknown": "Payment result unknown",
    "more_time": "Asked for more time",
    # certificates
    "language": "Choosing the language",
    "place_card": "Placing the card",
    "reading_card": "Reading the card",
    "pin_entry": "Entering the PIN",
    "pin_forgotten": "Forgotten PIN",
    "pin_locked": "PIN locked",
    "card_problem": "Card problem",
    "verifying": "Checking the card",
    "refused": "Issuance refused",
    "name_confirm": "Confirming the name",
    "fetching_options": "Loading the choices",
    "issuance_unavailable": "Issuance unavailable",
    "choose_type": "Choosing the certificate",
    "choose_options": "Choosing what it shows",
    "copies": "Choosing the number of copies",
    "fee_summary": "Checking the fee",
    "printing": "Printing",
    "print_failed": "Printing failed",
    "voided": "Certificate voided",
    "take_certificate": "Taking the certificate",
    "take_card": "Taking the card back",
    "card_left_behind": "Card left behind",
    "rating": "Rating the service",
    # semi-self register
    "scan": "Scanning the slip",
    "enter_code": "Typing the order code",
    "looking_up": "Looking up the order",
    "not_found": "Order not found",
    "unavailable": "Register unavailable",
    "order_summary": "Checking the order",
    "printing_receipt": "Printing the receipt",
    "receipt_failed": "Receipt printing failed",
    "done": "Finished",
}


def step_label(step: str) -> str:
    """A step's name in the page's language; an unknown step id as sent."""
    label = STEP_LABELS.get(step)
    return _(label) if label else step
