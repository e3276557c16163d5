"""Every resident-facing message id of the kiosk, marked with `N_` so extraction finds it.

Message ids are stable keys (`pin.title`), not source sentences: Japanese and English are both
translations in `locale/<dir>/LC_MESSAGES/kiosk.po`. Screens and `.kv` files call `tr("key")` directly;
keys built at run time (a payment phase, a rating) are listed here so that they are extracted; problem
codes map to their message ids in `problems.py`. A count-aware text has a `.one` form beside the key
(`copies.count.one`), used where the language's plural rule says "one" (`Translator.tr_count`).
The English text is repeated as a comment for whoever adds a key.
"""

from __future__ import annotations

__all__ = ["KEYS", "N_", "method_key", "phase_key", "rating_key"]


def N_(key: str) -> str:
    """Mark a message id for extraction without translating it (translation happens when shown)."""
    return key


def rating_key(stars: int) -> str:
    """The message id of the word for a rating of `stars` (1 = very bad … 5 = very good)."""
    return f"rating.{stars}"


def phase_key(phase: str) -> str:
    """The message id of a payment terminal phase (e.g. `WAIT_CARD`)."""
    return f"phase.{phase}"


def method_key(kind: str) -> str:
    """The message id naming a payment method kind (cash, credit, emoney, qr)."""
    return f"method.{kind}"


KEYS: tuple[str, ...] = (
    N_("button.next"),  # Next
    N_("button.back"),  # Back
    N_("button.cancel"),  # Cancel
    N_("button.ok"),  # OK
    N_("button.yes"),  # Yes
    N_("button.call_staff"),  # Call staff
    N_("button.large_text"),  # Large text
    N_("button.high_contrast"),  # High contrast
    N_("button.more_time"),  # More time, please
    N_("button.erase"),  # Erase
    N_("button.forgot_pin"),  # Forgot your PIN?
    N_("button.reprint"),  # Print again
    N_("button.void"),  # Stop printing
    N_("button.skip"),  # Skip
    N_("button.type_code"),  # Type the number
    N_("button.other_method"),  # Choose another method
    N_("home.title"),  # Welcome
    N_("home.issuance"),  # Get a certificate with your My Number Card
    N_("home.register"),  # Pay fees
    N_("home.issuance_unavailable"),  # Certificates cannot be issued right now. Please go to the counter.
    N_("home.clock_unsynced"),  # For staff: this kiosk's clock is not synchronised with the time server.
    N_("home.clock_wrong"),  # This kiosk's clock is wrong, so certificates cannot be issued. Please go to…
    N_("language.title"),  # Choose your language
    N_("place_card.title"),  # Place your My Number Card on the reader
    N_("place_card.hint"),  # Leave it there until the end.
    N_("reading_card.title"),  # Reading your card…
    N_("pin.title"),  # Enter your 4-digit PIN
    N_("pin.tries_left"),  # Tries left: {tries}
    N_("pin.last_try"),  # This is your last try. If it is wrong, the card will be locked.
    N_("pin.wrong"),  # The PIN was wrong.
    N_("pin_forgotten.title"),  # If you forgot your PIN
    N_(
        "pin_forgotten.body"
    ),  # Please go to the My Number Card counter to set a new PIN. Bring the card and an identity document.
    N_("where_to_go"),  # Where to go: {place}
    N_("where_to_go.counter"),  # Counter {number}, floor {floor}: {counter}
    N_("where_to_go.floor"),  # Floor {floor}: {counter}
    N_("where_to_go.qr"),  # Scan this code with your phone to open the page.
    N_("staff_called"),  # Staff have been called. Please wait.
    N_("pin_locked.title"),  # Your PIN is locked
    N_("pin_locked.body"),  # The PIN was wrong 3 times. Please go to the My Number Card counter.
    N_("card_problem.title"),  # This card cannot be used
    N_("problem.not_my_number_card"),  # This is not a My Number Card. Please use your My Number Card.
    N_("problem.card_error"),  # The card could not be read. Please place it again or call staff.
    N_("problem.timeout"),  # This took too long. Please call staff.
    N_("problem.out_of_paper"),  # The printer is out of paper.
    N_("problem.paper_jam"),  # Paper is stuck in the printer.
    N_("problem.cover_open"),  # The printer cover is open.
    N_("problem.offline"),  # The printer is not responding.
    N_("problem.printer_error"),  # The printer has a problem.
    N_("problem.not_issued"),  # The city system did not send the certificate.
    N_(
        "problem.card_again"
    ),  # The card moved away from the reader. Please place it again and leave it there.
    N_(
        "problem.card_unsupported"
    ),  # This card cannot be used here. Smartphones and old Juki cards are not accepted.
    N_(
        "problem.card_counter"
    ),  # The card's electronic certificate cannot be used here. Please go to the My Number Card counter.
    N_("problem.reader"),  # The card reader is not working. Please call staff.
    N_("problem.unknown"),  # Something went wrong. Please call staff.
    N_("verifying.title"),  # Checking…
    N_("refused.title"),  # This card cannot be used here
    N_("name.title"),  # Is this you?
    N_("name.body"),  # Name: {name}
    N_("fetching.title"),  # Checking which certificates you can get…
    N_("unavailable.title"),  # Certificates cannot be issued now
    N_(
        "unavailable.body"
    ),  # We cannot reach the city system. Please go to the counter. The other services of this kiosk still work.
    N_("type.title"),  # Choose a certificate
    N_("type.fee"),  # {fee} yen per copy
    N_("type.refused"),  # Not available here: {reason}
    N_("options.title"),  # Choose what the certificate shows
    N_("copies.title"),  # How many copies?
    N_("copies.count"),  # {copies} copies
    N_("copies.count.one"),  # {copies} copy
    N_("fee.title"),  # Please check the fee
    N_("fee.total"),  # Total: {fee} yen
    N_("fee.rules"),  # Pay with one method only. No refunds after payment.
    N_("method.title"),  # How will you pay?
    N_("method.credit"),  # Credit card
    N_("method.emoney"),  # Electronic money
    N_("method.qr"),  # QR code payment
    N_("method.cash"),  # Cash
    N_("checking_printer.title"),  # Preparing the printer…
    N_("printer_unavailable.title"),  # The printer cannot print now
    N_("printer_unavailable.body"),  # No payment was taken. Staff have been called.
    N_("paying.title"),  # Please pay at the payment terminal
    N_("phase.WAIT_CARD"),  # Touch or insert your card
    N_("phase.READING"),  # Reading…
    N_("phase.PIN"),  # Enter your card's PIN on the terminal
    N_("phase.AUTHORIZING"),  # Authorizing…
    N_("phase.REMOVE_CARD"),  # Remove your card from the terminal
    N_("phase.RETOUCH"),  # Please touch again
    N_("declined.title"),  # The payment did not go through
    N_("declined.body"),  # No money was taken. You can try another method.
    N_("payment_unknown.title"),  # Please wait for staff
    N_("payment_unknown.body"),  # We could not confirm the payment. Do not pay again. Staff are coming.
    N_("printing.title"),  # Printing your certificate…
    N_("printing.pages"),  # Page {done} of {total}
    N_("print_failed.title"),  # The certificate could not be printed
    N_(
        "print_failed.body"
    ),  # Your payment is done. Print again, or stop and get the certificate free of charge at the counter.
    N_("voided.title"),  # Please take the slip to the counter
    N_(
        "voided.body"
    ),  # Show this slip at the counter to get your certificate free of charge. Staff have been called.
    N_("take_certificate.title"),  # Please take your certificate
    N_("take_card.title"),  # Please take your My Number Card
    N_("card_left.title"),  # Your card is still in the reader!
    N_("rating.title"),  # How was it?
    N_("rating.1"),  # Very bad
    N_("rating.2"),  # Bad
    N_("rating.3"),  # OK
    N_("rating.4"),  # Good
    N_("rating.5"),  # Very good
    N_("more_time.title"),  # Do you need more time?
    N_("more_time.body"),  # This will end in {seconds} seconds.
    N_("register.scan.title"),  # Hold the code on your payment slip to the scanner
    N_("register.enter_code.title"),  # Enter the number on your payment slip
    N_("register.looking_up.title"),  # Looking up your payment…
    N_("register.not_found.not_found"),  # The number was not found. Please check it.
    N_("register.not_found.already_paid"),  # This slip has already been paid.
    N_("register.not_found.expired"),  # This slip has expired. Please ask at the counter.
    N_("register.unavailable.title"),  # Payments cannot be taken here now. Please pay at the counter.
    N_("register.summary.title"),  # Please check the items
    N_("register.summary.line"),  # {name} × {quantity}: {amount} yen
    N_("register.receipt_failed.title"),  # The receipt could not be printed. Staff have been called.
    N_("register.done.title"),  # Thank you. Your payment is complete.
)
