"""Typed card errors: what went wrong with the reader or the My Number card.

Every error carries a stable ``code`` (logs, events, fleet link) and a ``message_key`` that
the kiosk app translates (see `device_drivers.card.messages`). None of them ever holds a PIN
or personal data: only tries-left counts, status words and reader names. Reader problems are
both `DeviceUnavailable` and `CardError`, so the flow can catch either.
"""

from __future__ import annotations

from device_drivers.errors import CardError, DeviceUnavailable

__all__ = [
    "CardMalformedResponse",
    "CardRemoved",
    "CertificateExpired",
    "CertificateNotTrusted",
    "NoCardPresent",
    "NotMyNumberCard",
    "PinBlocked",
    "PinFormatError",
    "PinIncorrect",
    "PinLastTry",
    "PinRequired",
    "ReaderAmbiguous",
    "ReaderGone",
    "ReaderNotFound",
    "SignatureInvalid",
    "UnexpectedStatusWord",
    "UnsupportedCard",
]


class PinIncorrect(CardError):
    """VERIFY was refused; `tries_left` attempts remain (1 = last try: warn the resident)."""

    code = "card.pin_incorrect"
    message_key = "card_pin_incorrect"

    def __init__(self, tries_left: int, detail: str = "") -> None:
        last = tries_left == 1
        super().__init__(
            detail or f"wrong PIN, {tries_left} tries left",
            code="card.pin_incorrect_last_try" if last else None,
            message_key="card_pin_incorrect_last_try" if last else None,
        )
        self.tries_left = tries_left


class PinBlocked(CardError):
    """The PIN is locked (0 tries): only the municipal counter can unlock it. Never VERIFY again."""

    code = "card.pin_blocked"
    message_key = "card_pin_blocked"


class PinLastTry(CardError):
    """One try is left on a PIN the kiosk did not ask the resident for: nothing was sent, since a wrong
    PIN would lock it. `tries_left` is what the card reported (1)."""

    code = "card.pin_last_try"
    message_key = "card_pin_last_try"

    def __init__(self, tries_left: int, detail: str = "") -> None:
        super().__init__(detail or f"{tries_left} try left: no VERIFY sent")
        self.tries_left = tries_left


class PinRequired(CardError):
    """The card answered 6982: the operation needs a verified PIN first (not a bad card)."""

    code = "card.pin_required"
    message_key = "card_pin_required"


class PinFormatError(CardError):
    """The entered PIN has the wrong form (the auth PIN is exactly 4 digits); nothing was sent."""

    code = "card.pin_format"
    message_key = "card_pin_format"


class CardRemoved(CardError):
    """The card left the reader during an operation (e.g. between VERIFY and SIGN)."""

    code = "card.removed"
    message_key = "card_removed"


class NoCardPresent(CardError):
    """The reader is there but holds no card."""

    code = "card.absent"
    message_key = "card_absent"


class NotMyNumberCard(CardError):
    """The card has no JPKI application: it is not a My Number card."""

    code = "card.not_my_number"
    message_key = "card_not_my_number"


class UnsupportedCard(CardError):
    """A JPKI token we do not accept here (smartphone JPKI, old 住基カード)."""

    code = "card.unsupported"
    message_key = "card_unsupported"


class UnexpectedStatusWord(CardError):
    """The card answered a status word the driver does not expect at this step."""

    code = "card.unexpected_status"
    message_key = "card_unexpected"

    def __init__(self, step: str, sw: int) -> None:
        super().__init__(f"{step}: unexpected status word {sw:04X}")
        self.step = step
        self.sw = sw


class CardMalformedResponse(CardError):
    """The card's answer cannot be parsed (truncated, bad TLV, bad length)."""

    code = "card.malformed"
    message_key = "card_unexpected"


class ReaderGone(DeviceUnavailable, CardError):
    """The card reader (or the PC/SC service) disappeared."""

    code = "card.reader_gone"
    message_key = "card_reader_gone"


class ReaderNotFound(DeviceUnavailable, CardError):
    """No reader matches the configured name."""

    code = "card.reader_not_found"
    message_key = "card_reader_gone"


class ReaderAmbiguous(DeviceUnavailable, CardError):
    """Several readers match the configured name: configure the exact one."""

    code = "card.reader_ambiguous"
    message_key = "card_reader_gone"


class CertificateExpired(CardError):
    """The auth certificate is outside its validity period (expired or not yet valid)."""

    code = "card.cert_expired"
    message_key = "card_cert_expired"


class CertificateNotTrusted(CardError):
    """The auth certificate was not issued by a pinned JPKI auth CA, or is not an auth certificate."""

    code = "card.cert_untrusted"
    message_key = "card_cert_untrusted"


class SignatureInvalid(CardError):
    """The card's signature does not verify with its certificate's key."""

    code = "card.signature_invalid"
    message_key = "card_cert_untrusted"
