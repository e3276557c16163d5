"""券面事項入力補助AP: the basic four (name, address, birth date, sex), read with the resident's own
4-digit 券面事項入力補助 PIN to pre-fill forms (書かない窓口).

Rules (issue 15): this PIN is VERIFYed only with digits the resident typed for it, never with the
auth PIN on the guess that residents share one; nothing is sent when 1 or 0 tries are left; the
My Number EF (0001) is never read: no procedure of the kiosk needs it.

The results are personal data: their reprs show nothing, and nothing here logs them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from device_drivers.card.channel import CardChannel
from device_drivers.card.constants import AID_KENHOJO, KENHOJO_PIN_TRIES, KenhojoEf
from device_drivers.card.efs import SW_NOT_FOUND, pin_tries_left, read_ef, select_ap, verify_pin
from device_drivers.card.errors import (
    CardMalformedResponse,
    NotMyNumberCard,
    PinBlocked,
    PinLastTry,
    UnexpectedStatusWord,
)
from device_drivers.card.pin import Pin
from device_drivers.card.tlv import iter_tlvs, parse_one

__all__ = [
    "BasicFour",
    "Sex",
    "kenhojo_tries_left",
    "my_number_check_digit",
    "parse_basic_four",
    "read_basic_four",
]

_logger = logging.getLogger(__name__)

TAG_BASIC_FOUR = 0xFF20
_TAGS = {0xDF22: "name", 0xDF23: "address", 0xDF24: "birth_date", 0xDF25: "sex"}
_SEX = {"1": "male", "2": "female", "9": "not_applicable"}

Sex = str  # "male" | "female" | "not_applicable" (ISO 5218 codes 1/2/9 on the card)


@dataclass(frozen=True, repr=False)
class BasicFour:
    """基本4情報 as printed on the card. `birth_date` is YYYYMMDD as stored."""

    name: str
    address: str
    birth_date: str
    sex: Sex

    def __repr__(self) -> str:
        return "BasicFour(<personal data>)"


def my_number_check_digit(first11: str) -> int:
    """Check digit of a My Number from its first 11 digits (個人番号 check-digit rule; emulator personas)."""
    if len(first11) != 11 or not first11.isdigit():
        raise ValueError("a My Number check digit needs 11 digits")
    total = 0
    for n in range(1, 12):
        p = int(first11[11 - n])
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    rem = total % 11
    return 0 if rem <= 1 else 11 - rem


def parse_basic_four(data: bytes) -> BasicFour:
    """Parse EF 0002: ``FF 20`` { DF21 offsets, DF22 name, DF23 address, DF24 birth, DF25 sex }."""
    outer = parse_one(data)
    if outer.tag != TAG_BASIC_FOUR:
        raise CardMalformedResponse(f"basic-4 EF starts with tag {outer.tag:X}, expected FF20")
    fields: dict[str, str] = {}
    for item in iter_tlvs(outer.value):
        key = _TAGS.get(item.tag)
        if key is None:
            continue
        try:
            fields[key] = item.value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CardMalformedResponse(f"basic-4 field {item.tag:X} is not UTF-8") from exc
    missing = [k for k in _TAGS.values() if k not in fields]
    if missing:
        raise CardMalformedResponse(f"basic-4 EF lacks {', '.join(missing)}")
    birth = fields["birth_date"]
    if len(birth) != 8 or not birth.isdigit():
        raise CardMalformedResponse("basic-4 birth date is not 8 digits")
    sex = _SEX.get(fields["sex"])
    if sex is None:
        raise CardMalformedResponse("basic-4 sex code is not 1, 2 or 9")
    return BasicFour(fields["name"], fields["address"], birth, sex)


def _select_kenhojo(ch: CardChannel) -> None:
    resp = select_ap(ch, AID_KENHOJO)
    if resp.sw == SW_NOT_FOUND:
        raise NotMyNumberCard("the card has no 券面事項入力補助 application")
    if not resp.ok:
        raise UnexpectedStatusWord("select kenhojo AP", resp.sw)


def kenhojo_tries_left(ch: CardChannel) -> int:
    """Remaining tries of the 券面事項入力補助 PIN (EF 0011) without spending one."""
    _select_kenhojo(ch)
    return pin_tries_left(ch, KenhojoEf.PIN, KENHOJO_PIN_TRIES, "kenhojo PIN status")


def read_basic_four(ch: CardChannel, pin: Pin) -> BasicFour:
    """VERIFY the 券面事項入力補助 PIN and read the basic four (EF 0002; never the My Number EF 0001).

    `pin` must be what the resident typed for this PIN, asked for with its tries left; never the
    auth PIN. The PIN is wiped when this returns or raises.

    Raises:
        PinBlocked: no tries left; nothing sent.
        PinLastTry: one try left; nothing sent (a wrong PIN would lock it: the counter decides).
        PinIncorrect: wrong PIN, with the tries now left.
    """
    with pin:
        pin.check_digits(4)
        _select_kenhojo(ch)
        left = pin_tries_left(ch, KenhojoEf.PIN, KENHOJO_PIN_TRIES, "kenhojo PIN status")
        if left == 0:
            raise PinBlocked("kenhojo PIN locked: no VERIFY sent")
        if left == 1:
            raise PinLastTry(left, "kenhojo PIN has 1 try left: no VERIFY sent")
        verify_pin(ch, KenhojoEf.PIN, pin, "kenhojo PIN")
        basic = parse_basic_four(read_ef(ch, KenhojoEf.BASIC_FOUR, "read basic four"))
    _logger.info("kenhojo basic four read")
    return basic
