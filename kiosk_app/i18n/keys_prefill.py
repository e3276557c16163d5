"""Message ids of the 書かない窓口 flow (prefill forms from the card, issue 19 item 3).

Kept apart from `keys.py`; `kiosk i18n report` finds these `N_` marks the same way. The comment after each
id is its English text.
"""

from __future__ import annotations

from kiosk_app.i18n.keys import N_

__all__ = [
    "FORM_KEYS",
    "PREFILL_KEYS",
    "PROBLEM_KEYS",
    "SEX_FEMALE",
    "SEX_MALE",
    "SEX_NOT_APPLICABLE",
]

BUTTON = N_("prefill.button")  # Help me fill in the forms (no writing needed)
CONSENT_TITLE = N_("prefill.consent.title")  # Fill in your application forms from your My Number card
CONSENT_READ = N_("prefill.consent.read")  # Read from the card: name, address, date of birth, sex.
CONSENT_NOT_READ = N_("prefill.consent.not_read")  # Not read: your My Number (個人番号) and your photo.
CONSENT_USE = N_(
    "prefill.consent.use"
)  # Used only to print your forms or to tell the counter staff; deleted today at the latest.
CONSENT_AGREE = N_("prefill.consent.agree")  # I agree: read my card
CONSENT_DECLINE = N_("prefill.consent.decline")  # No, thank you
INSERT_CARD = N_("prefill.insert_card")  # Place your My Number card on the reader.
CHECKING = N_("prefill.checking")  # Checking the card…
PIN_TITLE = N_("prefill.pin.title")  # Enter the 4-digit PIN for form filling (券面事項入力補助用).
PIN_TRIES = N_("prefill.pin.tries")  # Tries left before the PIN locks: {count}
PIN_WRONG = N_("prefill.pin.wrong")  # The PIN was wrong. Please check it and enter it again.
READING = N_("prefill.reading")  # Reading the card. Please do not move it.
CHOOSE_TITLE = N_("prefill.choose.title")  # Read for {name}. What should we do with it?
CHOOSE_PRINT = N_("prefill.choose.print")  # Print my forms, filled in
CHOOSE_COUNTER = N_("prefill.choose.counter")  # Send it to the counter for number {number}
PRINTING = N_("prefill.printing")  # Printing your forms…
ATTACHING = N_("prefill.attaching")  # Sending to the counter…
DONE_PRINT = N_("prefill.done.print")  # Take your forms. Write only in the boxes marked “Please write”.
DONE_COUNTER = N_("prefill.done.counter")  # When number {number} is called, the staff will have your details.
DONE_CARD = N_("prefill.done.card")  # Please take your card.
LOCKED = N_(
    "prefill.locked"
)  # This PIN is locked or has one try left. Please go to the My Number card counter.
CARD_REMOVED = N_("prefill.card_removed")  # The card was removed. Nothing read from it was kept.
FAILED = N_("prefill.failed")  # This did not work. Please ask a member of staff.
FORM_NAME = N_("prefill.form.name")  # Name
FORM_ADDRESS = N_("prefill.form.address")  # Address
FORM_BIRTH = N_("prefill.form.birth")  # Date of birth
FORM_SEX = N_("prefill.form.sex")  # Sex
FORM_FILED = N_("prefill.form.filed")  # Date of filing
FORM_SIGNATURE = N_("prefill.form.signature")  # Signature
FORM_PHONE = N_("prefill.form.phone")  # Telephone
FORM_WRITE_HERE = N_("prefill.form.write_here")  # Please write
FORM_NOTE = N_("prefill.form.note")  # Check the details; staff will help with the rest at the counter.
SEX_MALE = N_("prefill.sex.male")  # Male
SEX_FEMALE = N_("prefill.sex.female")  # Female
SEX_NOT_APPLICABLE = N_("prefill.sex.not_applicable")  # Not stated

PREFILL_KEYS = (
    BUTTON, CONSENT_TITLE, CONSENT_READ, CONSENT_NOT_READ, CONSENT_USE, CONSENT_AGREE, CONSENT_DECLINE,
    INSERT_CARD, CHECKING, PIN_TITLE, PIN_TRIES, PIN_WRONG, READING, CHOOSE_TITLE, CHOOSE_PRINT,
    CHOOSE_COUNTER, PRINTING, ATTACHING, DONE_PRINT, DONE_COUNTER, DONE_CARD, LOCKED, CARD_REMOVED, FAILED,
)  # fmt: skip
FORM_KEYS = (
    FORM_NAME, FORM_ADDRESS, FORM_BIRTH, FORM_SEX, FORM_FILED, FORM_SIGNATURE, FORM_PHONE, FORM_WRITE_HERE,
    FORM_NOTE, SEX_MALE, SEX_FEMALE, SEX_NOT_APPLICABLE,
)  # fmt: skip
PROBLEM_KEYS = {"card_removed": CARD_REMOVED, "locked": LOCKED}
