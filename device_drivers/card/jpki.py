"""公的個人認証 (JPKI) AP operations: card kind, auth certificate, PIN tries, VERIFY, sign.

The user-authentication key signs a SHA-256 DigestInfo; the card adds PKCS#1 v1.5 padding.
Nothing here logs certificate contents, PINs or signatures.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from device_drivers.card.apdu import INS_READ_BINARY, INS_SIGN, CommandApdu
from device_drivers.card.channel import CardChannel
from device_drivers.card.constants import (
    AID_JPKI,
    AUTH_PIN_TRIES,
    SHA256_DIGEST_INFO_PREFIX,
    CardKind,
    JpkiEf,
    token_kind,
)
from device_drivers.card.efs import (
    SW_NOT_FOUND,
    SW_SECURITY,
    pin_tries_left,
    read_ef,
    select_ap,
    select_ef,
    verify_pin,
)
from device_drivers.card.errors import (
    CardMalformedResponse,
    NotMyNumberCard,
    PinBlocked,
    PinRequired,
    UnexpectedStatusWord,
    UnsupportedCard,
)
from device_drivers.card.pin import Pin

__all__ = [
    "AuthResult",
    "auth_digest_info",
    "auth_tries_left",
    "authenticate",
    "read_auth_certificate",
    "read_card_kind",
    "select_jpki",
    "sign_with_auth_key",
    "verify_auth_pin",
]

_logger = logging.getLogger(__name__)

_TOKEN_LEN = 32
_RSA_2048_BYTES = 256


@dataclass(frozen=True, repr=False)
class AuthResult:
    """Outcome of a JPKI authentication: the auth certificate (DER), the signature, tries left."""

    certificate_der: bytes
    signature: bytes
    tries_left: int
    kind: CardKind

    def __repr__(self) -> str:
        return f"AuthResult(cert {len(self.certificate_der)} B, signature {len(self.signature)} B)"


def auth_digest_info(challenge: bytes) -> bytes:
    """DER DigestInfo of SHA-256(challenge): what the card's auth key signs."""
    return SHA256_DIGEST_INFO_PREFIX + hashlib.sha256(challenge).digest()


def select_jpki(ch: CardChannel) -> None:
    """SELECT the JPKI AP.

    Raises:
        NotMyNumberCard: the card has no JPKI AP (6A82).
    """
    resp = select_ap(ch, AID_JPKI)
    if resp.sw == SW_NOT_FOUND:
        raise NotMyNumberCard("the card has no JPKI application")
    if not resp.ok:
        raise UnexpectedStatusWord("select JPKI AP", resp.sw)


def read_card_kind(ch: CardChannel) -> CardKind:
    """SELECT JPKI and read its token: My Number card, smartphone, 住基カード or other."""
    resp = select_ap(ch, AID_JPKI)
    if resp.sw == SW_NOT_FOUND:
        return CardKind.OTHER
    if not resp.ok:
        raise UnexpectedStatusWord("select JPKI AP", resp.sw)
    resp = ch.send(CommandApdu(0x00, INS_READ_BINARY, 0x80 | JpkiEf.TOKEN, 0x00, le=_TOKEN_LEN))
    if not resp.ok:
        select_ef(ch, JpkiEf.TOKEN, "read token")
        resp = ch.send(CommandApdu(0x00, INS_READ_BINARY, 0x00, 0x00, le=_TOKEN_LEN))
    if not resp.ok:
        raise UnexpectedStatusWord("read JPKI token", resp.sw)
    kind = token_kind(resp.data)
    _logger.info("card kind: %s", kind.value)
    return kind


def read_auth_certificate(ch: CardChannel) -> bytes:
    """Read the user-authentication certificate (EF 000A, DER) of the selected JPKI AP."""
    cert = read_ef(ch, JpkiEf.AUTH_CERT, "read auth certificate")
    if cert[:1] != b"\x30":
        raise CardMalformedResponse("the auth certificate EF does not hold a DER certificate")
    return cert


def auth_tries_left(ch: CardChannel) -> int:
    """Remaining auth-PIN tries without spending one (empty VERIFY on EF 0018)."""
    return pin_tries_left(ch, JpkiEf.AUTH_PIN, AUTH_PIN_TRIES, "auth PIN status")


def verify_auth_pin(ch: CardChannel, pin: Pin) -> None:
    """VERIFY the 4-digit auth PIN (format checked first: nothing is sent if it is wrong)."""
    pin.check_digits(4)
    verify_pin(ch, JpkiEf.AUTH_PIN, pin, "auth PIN")


def sign_with_auth_key(ch: CardChannel, digest_info: bytes) -> bytes:
    """Sign a DigestInfo with the auth key (after VERIFY); returns the 256-byte signature.

    Raises:
        PinRequired: no verified auth PIN (e.g. the card was reset or re-inserted).
    """
    select_ef(ch, JpkiEf.AUTH_KEY, "select auth key")
    resp = ch.send(CommandApdu(0x80, INS_SIGN, 0x00, 0x80, digest_info, le=256))
    if resp.sw == SW_SECURITY:
        raise PinRequired("sign: the auth PIN is not verified")
    if not resp.ok:
        raise UnexpectedStatusWord("sign with auth key", resp.sw)
    if len(resp.data) != _RSA_2048_BYTES:
        raise CardMalformedResponse(f"signature of {len(resp.data)} bytes, expected {_RSA_2048_BYTES}")
    return resp.data


def authenticate(
    ch: CardChannel, pin: Pin, challenge: bytes, *, accept: tuple[CardKind, ...] = ()
) -> AuthResult:
    """Full JPKI user authentication: kind, certificate, tries, VERIFY, sign `challenge`.

    Args:
        ch: channel to the card.
        pin: the auth PIN; wiped when this returns or raises.
        challenge: nonce to sign (hashed with SHA-256 here).
        accept: card kinds accepted besides the My Number card (e.g. smartphone JPKI).

    Raises:
        NotMyNumberCard, UnsupportedCard, PinBlocked (no VERIFY is sent), PinIncorrect,
        CardRemoved, ReaderGone, UnexpectedStatusWord.
    """
    with pin:
        pin.check_digits(4)
        kind = read_card_kind(ch)
        if kind is CardKind.OTHER:
            raise NotMyNumberCard("the card has no JPKI application")
        if kind is not CardKind.MY_NUMBER_CARD and kind not in accept:
            raise UnsupportedCard(f"card kind {kind.value} is not accepted here")
        cert = b""
        if kind is CardKind.MY_NUMBER_CARD:  # a phone token wants the PIN before 000A
            cert = read_auth_certificate(ch)
        tries = auth_tries_left(ch)
        if tries == 0:
            raise PinBlocked("auth PIN locked: no VERIFY sent")
        verify_auth_pin(ch, pin)
        if not cert:
            cert = read_auth_certificate(ch)
        signature = sign_with_auth_key(ch, auth_digest_info(challenge))
    return AuthResult(cert, signature, AUTH_PIN_TRIES, kind)
