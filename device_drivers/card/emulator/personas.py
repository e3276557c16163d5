"""The emulated cards' residents and states (all fictional). Test PINs: auth/kenhojo ``1234``
(kenhojo ``5678`` on ``kenhojo-pin-differs``), signature password ``MADO1234``.

A persona is data: card kind, PIN counters at first insertion, certificate dates, basic four
and backend flags that the central system's fakes use (revoked, 転出, 支援措置).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from device_drivers.card.constants import CardKind
from device_drivers.card.kenhojo import my_number_check_digit
from madoguchi.errors import UserError

__all__ = [
    "PERSONAS",
    "TEST_AUTH_PIN",
    "TEST_OTHER_KENHOJO_PIN",
    "TEST_SIGN_PIN",
    "BackendFlag",
    "Persona",
    "persona_by_name",
]

TEST_AUTH_PIN = "1234"
TEST_SIGN_PIN = "MADO1234"
TEST_OTHER_KENHOJO_PIN = "5678"


class BackendFlag(enum.StrEnum):
    """Facts the backend knows about the resident; the card itself does not show them."""

    REVOKED = "revoked"
    MOVED_OUT = "moved_out"
    SUPPORT_MEASURES = "support_measures"


def _my_number(first11: str) -> str:
    return first11 + str(my_number_check_digit(first11))


@dataclass(frozen=True)
class Persona:
    """One emulated card. Dates are relative to now so that personas never age out.

    `pin` is the auth PIN and, unless `kenhojo_pin` is set, also the 券面事項入力補助 PIN (residents
    often share one); `sign_password` is the signature password.
    """

    name: str
    description: str
    kind: CardKind = CardKind.MY_NUMBER_CARD
    auth_tries: int = 3
    sign_tries: int = 5
    kenhojo_tries: int = 3
    cert_days_left: int = 1400
    has_sign_cert: bool = True
    full_name: str = "窓口 花子"
    address: str = "東京都千代田区霞が関二丁目1番2号"
    birth_date: str = "19800401"
    sex_code: str = "2"
    my_number: str = _my_number("12345678901")
    flags: tuple[BackendFlag, ...] = ()
    pin: str = TEST_AUTH_PIN
    sign_password: str = TEST_SIGN_PIN
    kenhojo_pin: str | None = None

    @property
    def kenhojo_pin_value(self) -> str:
        """The 券面事項入力補助 PIN: `kenhojo_pin`, or the auth PIN when the resident shares one."""
        return self.pin if self.kenhojo_pin is None else self.kenhojo_pin

    @property
    def has_jpki(self) -> bool:
        """False for a card without the JPKI application."""
        return self.kind is not CardKind.OTHER


PERSONAS: tuple[Persona, ...] = (
    Persona("valid-adult", "adult, full PIN tries, valid certificates"),
    Persona("pin-one-try", "auth PIN has one try left: the kiosk must warn before entry", auth_tries=1),
    Persona("pin-locked", "auth PIN locked (0 tries): send to the counter, no VERIFY", auth_tries=0),
    Persona("expired-cert", "auth certificate expired 30 days ago", cert_days_left=-30),
    Persona(
        "revoked-cert",
        "valid card whose auth certificate is on the test CA's CRL",
        flags=(BackendFlag.REVOKED,),
        my_number=_my_number("23456789012"),
    ),
    Persona(
        "under-15",
        "child: auth certificate only, no signature certificate",
        has_sign_cert=False,
        full_name="窓口 太郎",
        birth_date="20150505",
        sex_code="1",
        my_number=_my_number("34567890123"),
    ),
    Persona(
        "moved-out",
        "moved out (転出): old address on the card, backend says 転出",
        flags=(BackendFlag.MOVED_OUT,),
        address="大阪府大阪市北区中之島一丁目3番20号",
        my_number=_my_number("45678901234"),
    ),
    Persona(
        "support-measures",
        "resident under 支援措置: backend restriction flag",
        flags=(BackendFlag.SUPPORT_MEASURES,),
        my_number=_my_number("56789012345"),
    ),
    Persona(
        "rare-kanji",
        "name with the rare character 𠮷 (U+20BB7)",
        full_name="𠮷田 一郎",
        sex_code="1",
        birth_date="19551123",
        my_number=_my_number("67890123456"),
    ),
    Persona(
        "smartphone",
        "smartphone JPKI (Android token): no 券面事項入力補助AP, auth PIN before the certificate",
        kind=CardKind.SMARTPHONE_JPKI,
    ),
    Persona(
        "juki-card", "old 住基カード with the old JPKI token", kind=CardKind.JUKI_CARD, has_sign_cert=False
    ),
    Persona("not-my-number", "some other smart card (no JPKI AP)", kind=CardKind.OTHER),
    Persona(
        "kenhojo-pin-differs",
        "券面事項入力補助 PIN 5678 differs from the auth PIN 1234: the kiosk must never try one on the other",
        kenhojo_pin=TEST_OTHER_KENHOJO_PIN,
        full_name="窓口 次郎",
        sex_code="1",
        birth_date="19720915",
        my_number=_my_number("78901234567"),
    ),
)


def persona_by_name(name: str) -> Persona:
    """The persona called `name`; the error lists the names that exist."""
    for persona in PERSONAS:
        if persona.name == name:
            return persona
    names = ", ".join(p.name for p in PERSONAS)
    raise UserError(f"no card persona {name!r}", f"choose one of: {names}")
