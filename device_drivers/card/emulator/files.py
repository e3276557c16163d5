"""The emulated card's file system: applications, EFs, PIN EFs and key EFs per persona.

Pure data built from a `Persona` and its `CardMaterial`; `card.py` runs the commands on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import rsa

from device_drivers.card.constants import (
    AID_JPKI,
    AID_KENHOJO,
    AUTH_PIN_TRIES,
    KENHOJO_PIN_TRIES,
    SIGN_PIN_TRIES,
    CardKind,
    JpkiEf,
    KenhojoEf,
)
from device_drivers.card.emulator.material import CardMaterial
from device_drivers.card.emulator.personas import Persona
from device_drivers.card.tlv import encode_tlv

__all__ = ["Application", "KeyEf", "PinEf", "build_applications", "persona_atr"]

_TOKENS = {
    CardKind.MY_NUMBER_CARD: b"JPKIAPICCTOKEN2",
    CardKind.JUKI_CARD: b"JPKIAPICCTOKEN",
    CardKind.SMARTPHONE_JPKI: b"JPKIAPGPSETOKEN",
}
# ATRs: the one OpenSC's jpki driver knows for JPKI cards; a generic T=1 card otherwise.
_ATR_JPKI = bytes.fromhex("3BE000FF8131FE4514")
_ATR_OTHER = bytes.fromhex("3B8880010000000000718100F9")


@dataclass
class PinEf:
    """A PIN EF: its value, retry counter (persists per card) and limit."""

    value: bytes
    tries: int
    max_tries: int


@dataclass(frozen=True, repr=False)
class KeyEf:
    """A private-key EF usable only after its PIN EF was verified."""

    key: rsa.RSAPrivateKey
    pin: int


@dataclass
class Application:
    """One AP: binary EFs, which PIN EF guards which EF, PIN EFs and key EFs."""

    aid: bytes
    name: str
    binaries: dict[int, bytes] = field(default_factory=dict)
    guards: dict[int, int] = field(default_factory=dict)
    pins: dict[int, PinEf] = field(default_factory=dict)
    keys: dict[int, KeyEf] = field(default_factory=dict)

    def has(self, fid: int) -> bool:
        """Whether `fid` exists in this AP."""
        return fid in self.binaries or fid in self.pins or fid in self.keys


def persona_atr(persona: Persona) -> bytes:
    """The ATR the emulated card presents (the driver never relies on it)."""
    return _ATR_JPKI if persona.has_jpki else _ATR_OTHER


def _jpki(persona: Persona, material: CardMaterial) -> Application:
    app = Application(AID_JPKI, "JPKI")
    app.binaries[JpkiEf.TOKEN] = _TOKENS[persona.kind].ljust(32, b" ")
    app.binaries[JpkiEf.AUTH_CERT] = material.auth_cert
    app.binaries[JpkiEf.AUTH_CA_CERT] = material.auth_ca_cert
    app.binaries[JpkiEf.SIGN_CA_CERT] = material.sign_ca_cert
    app.pins[JpkiEf.AUTH_PIN] = PinEf(persona.pin.encode(), persona.auth_tries, AUTH_PIN_TRIES)
    app.keys[JpkiEf.AUTH_KEY] = KeyEf(material.auth_key, JpkiEf.AUTH_PIN)
    if persona.kind is CardKind.SMARTPHONE_JPKI:
        app.guards[JpkiEf.AUTH_CERT] = JpkiEf.AUTH_PIN
    if material.sign_cert is not None:
        app.binaries[JpkiEf.SIGN_CERT] = material.sign_cert
        app.guards[JpkiEf.SIGN_CERT] = JpkiEf.SIGN_PIN
        app.pins[JpkiEf.SIGN_PIN] = PinEf(persona.sign_password.encode(), persona.sign_tries, SIGN_PIN_TRIES)
        app.keys[JpkiEf.SIGN_KEY] = KeyEf(material.sign_key, JpkiEf.SIGN_PIN)
    return app


def _basic_four(persona: Persona) -> bytes:
    fields = [
        (0xDF22, persona.full_name.encode("utf-8")),
        (0xDF23, persona.address.encode("utf-8")),
        (0xDF24, persona.birth_date.encode("ascii")),
        (0xDF25, persona.sex_code.encode("ascii")),
    ]
    # DF21: 16-bit offsets of the four fields inside the FF20 value (after DF21 itself).
    offsets_len = 3 + 2 * len(fields)
    pos = offsets_len
    offsets = bytearray()
    body = bytearray()
    for tag, value in fields:
        offsets += pos.to_bytes(2, "big")
        item = encode_tlv(tag, value)
        body += item
        pos += len(item)
    return encode_tlv(0xFF20, encode_tlv(0xDF21, bytes(offsets)) + bytes(body))


def _kenhojo(persona: Persona) -> Application:
    app = Application(AID_KENHOJO, "kenhojo")
    app.binaries[KenhojoEf.MY_NUMBER] = encode_tlv(0xFF10, persona.my_number.encode("ascii")) + b"\xff\xff"
    app.binaries[KenhojoEf.BASIC_FOUR] = _basic_four(persona)
    app.binaries[KenhojoEf.AP_INFO] = encode_tlv(0xDF31, b"\x01\x00")
    app.guards[KenhojoEf.MY_NUMBER] = KenhojoEf.PIN
    app.guards[KenhojoEf.BASIC_FOUR] = KenhojoEf.PIN
    app.pins[KenhojoEf.PIN] = PinEf(
        persona.kenhojo_pin_value.encode(), persona.kenhojo_tries, KENHOJO_PIN_TRIES
    )
    return app


def build_applications(persona: Persona, material: CardMaterial | None) -> list[Application]:
    """The APs of `persona`'s card (none for a card without JPKI)."""
    if not persona.has_jpki or material is None:
        return []
    apps = [_jpki(persona, material)]
    if persona.kind is CardKind.MY_NUMBER_CARD:
        apps.append(_kenhojo(persona))
    return apps
