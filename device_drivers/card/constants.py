"""My Number card identifiers: application AIDs, EF ids, tokens, PIN rules, status words.

Shared by the driver and the emulator so both speak the same card. Facts and sources:
docs `shared/reference/mynumber-card.md` sections 1-5.
"""

from __future__ import annotations

import enum

__all__ = [
    "AID_JPKI",
    "AID_JUKI",
    "AID_KENHOJO",
    "AID_KENKAKU",
    "AUTH_PIN_TRIES",
    "SHA256_DIGEST_INFO_PREFIX",
    "CardKind",
    "JpkiEf",
    "KenhojoEf",
    "token_kind",
]

AID_JPKI = bytes.fromhex("D392F000260100000001")
AID_KENHOJO = bytes.fromhex("D3921000310001010408")
AID_KENKAKU = bytes.fromhex("D3921000310001010402")
AID_JUKI = bytes.fromhex("D3921000310001010100")

AUTH_PIN_TRIES = 3
SIGN_PIN_TRIES = 5
KENHOJO_PIN_TRIES = 3

SHA256_DIGEST_INFO_PREFIX = bytes.fromhex("3031300D060960864801650304020105000420")


class JpkiEf(enum.IntEnum):
    """EFs of the JPKI AP."""

    SIGN_CERT = 0x0001
    SIGN_CA_CERT = 0x0002
    TOKEN = 0x0006
    AUTH_CERT = 0x000A
    AUTH_CA_CERT = 0x000B
    AUTH_KEY = 0x0017
    AUTH_PIN = 0x0018
    SIGN_KEY = 0x001A
    SIGN_PIN = 0x001B


class KenhojoEf(enum.IntEnum):
    """EFs of the 券面事項入力補助AP."""

    MY_NUMBER = 0x0001
    BASIC_FOUR = 0x0002
    SIGNATURE = 0x0003
    CV_CERT = 0x0004
    AP_INFO = 0x0005
    PIN = 0x0011


class CardKind(enum.StrEnum):
    """What is in the reader, told apart by SELECT of the JPKI AP and its token (never the ATR)."""

    MY_NUMBER_CARD = "my_number_card"
    SMARTPHONE_JPKI = "smartphone_jpki"
    JUKI_CARD = "juki_card"
    OTHER = "other"


_TOKENS = {
    "JPKIAPICCTOKEN2": CardKind.MY_NUMBER_CARD,
    "JPKIAPICCTOKEN": CardKind.JUKI_CARD,
    "JPKIAPGPSETOKEN": CardKind.SMARTPHONE_JPKI,
    "JPKIAPIOSTOKEN": CardKind.SMARTPHONE_JPKI,
}


def token_kind(token: bytes) -> CardKind:
    """Classify the 32-byte token EF (ASCII, padded with spaces or NULs)."""
    text = token.rstrip(b" \x00\xff").decode("ascii", "replace")
    return _TOKENS.get(text, CardKind.OTHER)
