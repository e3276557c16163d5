"""Open a card by device URL and run the resident-facing operations on it.

``pcsc://<reader name>`` uses the PC/SC stack; ``emulated://card?persona=<name>`` runs the
emulator in-process (``&extended=1`` for extended-length APDUs). A `CardSession` is one
connection: the card is reset when it closes, so no verified PIN outlives the session.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import TYPE_CHECKING, Self

from device_drivers.card import jpki, kenhojo
from device_drivers.card.channel import ApduStats, CardChannel, Transport
from device_drivers.card.constants import CardKind
from device_drivers.card.pin import Pin
from madoguchi.device_urls import DeviceKind, parse_device_url

if TYPE_CHECKING:
    from device_drivers.card.emulator.transport import EmulatorBank

__all__ = ["CardSession", "open_card", "open_transport"]

_logger = logging.getLogger(__name__)


def open_transport(url: str, *, extended_length: bool = False, bank: EmulatorBank | None = None) -> Transport:
    """Connect to the card named by `url`.

    Args:
        url: ``pcsc://NAME`` (exact reader name or a unique part of it) or
            ``emulated://card?persona=NAME``.
        extended_length: use extended APDUs (only with readers known to pass them).
        bank: the emulated cards to use (one per persona); a new bank when None.

    Raises:
        DeviceUrlError: malformed URL. ReaderNotFound, ReaderAmbiguous, ReaderGone, NoCardPresent.
    """
    parsed = parse_device_url(DeviceKind.CARD_READER, url)
    if parsed.scheme == "pcsc":
        from device_drivers.card.pcsc import PcscTransport

        return PcscTransport(parsed.target, extended_length=extended_length).open()
    from device_drivers.card.emulator.transport import EmulatedTransport, EmulatorBank

    persona = parsed.params.get("persona")
    if parsed.target != "card" or not persona:
        from madoguchi.device_urls import DeviceUrlError

        raise DeviceUrlError(f"{url!r}: the card emulator is written emulated://card?persona=valid-adult")
    extended = extended_length or parsed.params.get("extended") == "1"
    return EmulatedTransport((bank or EmulatorBank()).card(persona), extended_length=extended)


def open_card(url: str, *, extended_length: bool = False, bank: EmulatorBank | None = None) -> CardSession:
    """Open a `CardSession` on the card named by `url` (see `open_transport`)."""
    return CardSession(open_transport(url, extended_length=extended_length, bank=bank))


class CardSession:
    """One connection to one card; use as a context manager."""

    def __init__(self, transport: Transport) -> None:
        self.channel = CardChannel(transport)

    @property
    def reader(self) -> str:
        """The reader (or emulator) name."""
        return self.channel.transport.name

    @property
    def stats(self) -> ApduStats:
        """APDU counters of this session."""
        return self.channel.stats

    def card_kind(self) -> CardKind:
        """My Number card, smartphone JPKI, 住基カード or other (by SELECT + token, not ATR)."""
        return jpki.read_card_kind(self.channel)

    def auth_tries_left(self) -> int:
        """Remaining auth-PIN tries; spends none."""
        jpki.select_jpki(self.channel)
        return jpki.auth_tries_left(self.channel)

    def read_auth_certificate(self) -> bytes:
        """The user-authentication certificate (DER)."""
        jpki.select_jpki(self.channel)
        return jpki.read_auth_certificate(self.channel)

    def verify_auth_pin(self, pin: Pin) -> None:
        """VERIFY the auth PIN (JPKI selected here); wipes `pin`."""
        with pin:
            jpki.select_jpki(self.channel)
            jpki.verify_auth_pin(self.channel, pin)

    def sign_challenge(self, challenge: bytes) -> bytes:
        """Sign SHA-256(`challenge`) with the auth key; needs `verify_auth_pin` in this session."""
        return jpki.sign_with_auth_key(self.channel, jpki.auth_digest_info(challenge))

    def authenticate(
        self, pin: Pin, challenge: bytes, *, accept: tuple[CardKind, ...] = ()
    ) -> jpki.AuthResult:
        """Full JPKI authentication (see `jpki.authenticate`); wipes `pin`."""
        return jpki.authenticate(self.channel, pin, challenge, accept=accept)

    def kenhojo_tries_left(self) -> int:
        """Remaining 券面事項入力補助 PIN tries; spends none."""
        return kenhojo.kenhojo_tries_left(self.channel)

    def read_basic_four(self, pin: Pin) -> kenhojo.BasicFour:
        """The basic four with the 券面事項入力補助 PIN the resident typed for it (personal data: never log
        it); nothing is sent at 1 or 0 tries left; never the My Number. Wipes `pin`."""
        return kenhojo.read_basic_four(self.channel, pin)

    def close(self) -> None:
        """Reset the card and release the reader."""
        self.channel.transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
