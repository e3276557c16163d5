"""The emulated My Number card: an APDU state machine over the persona's file system.

Implements SELECT (AP by DF name, EF by id), READ BINARY (short, extended, by SFI), VERIFY
(P2 = 80 on the current EF or 80|SFI; empty = tries query), and the JPKI signature
``80 2A 00 80`` with on-card PKCS#1 v1.5 padding. Retry counters belong to the card and survive
power cycles; the current AP/EF and verified flags are cleared by power off/on and reset.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa

from device_drivers.card.emulator.files import Application, build_applications, persona_atr
from device_drivers.card.emulator.material import CardMaterial
from device_drivers.card.emulator.personas import Persona

__all__ = ["EmulatedCard", "raw_pkcs1_sign"]

_logger = logging.getLogger(__name__)

OK = b"\x90\x00"
SW_WRONG_LENGTH = b"\x67\x00"
SW_INCOMPATIBLE = b"\x69\x81"
SW_SECURITY = b"\x69\x82"
SW_BLOCKED = b"\x69\x84"
SW_NO_EF = b"\x69\x86"
SW_NOT_FOUND = b"\x6a\x82"
SW_BAD_P1P2 = b"\x6a\x86"
SW_NO_DATA_REF = b"\x6a\x88"
SW_OFFSET = b"\x6b\x00"
SW_BAD_INS = b"\x6d\x00"
SW_BAD_CLA = b"\x6e\x00"


@dataclass(frozen=True)
class _Command:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes
    le: int | None


def _parse(apdu: bytes) -> _Command | None:
    """Decode ISO 7816-4 cases 1-4, short and extended; None when the lengths do not add up."""
    if len(apdu) < 4:
        return None
    cla, ins, p1, p2 = apdu[:4]
    body = apdu[4:]
    if not body:
        return _Command(cla, ins, p1, p2, b"", None)
    if len(body) == 1:
        return _Command(cla, ins, p1, p2, b"", body[0] or 256)
    if body[0] != 0:
        lc = body[0]
        if len(body) == 1 + lc:
            return _Command(cla, ins, p1, p2, body[1:], None)
        if len(body) == 2 + lc:
            return _Command(cla, ins, p1, p2, body[1:-1], body[-1] or 256)
        return None
    if len(body) == 3:
        return _Command(cla, ins, p1, p2, b"", int.from_bytes(body[1:3], "big") or 65536)
    lc = int.from_bytes(body[1:3], "big")
    if lc == 0:
        return None
    if len(body) == 3 + lc:
        return _Command(cla, ins, p1, p2, body[3:], None)
    if len(body) == 5 + lc:
        return _Command(cla, ins, p1, p2, body[3:-2], int.from_bytes(body[-2:], "big") or 65536)
    return None


def raw_pkcs1_sign(key: rsa.RSAPrivateKey, digest_info: bytes) -> bytes:
    """RSA-sign a DigestInfo with PKCS#1 v1.5 type-1 padding done here, as the card does."""
    numbers = key.private_numbers()
    n = numbers.public_numbers.n
    k = (n.bit_length() + 7) // 8
    em = b"\x00\x01" + b"\xff" * (k - len(digest_info) - 3) + b"\x00" + digest_info
    m = int.from_bytes(em, "big")
    s1 = pow(m, numbers.dmp1, numbers.p)
    s2 = pow(m, numbers.dmq1, numbers.q)
    h = (numbers.iqmp * (s1 - s2)) % numbers.p
    return (s2 + h * numbers.q).to_bytes(k, "big")


class EmulatedCard:
    """One emulated card. Thread-safe: the vpcd link and tests may call it from different threads."""

    def __init__(self, persona: Persona, material: CardMaterial | None) -> None:
        self.persona = persona
        self.atr = persona_atr(persona)
        self._apps = build_applications(persona, material)
        self._lock = threading.Lock()
        self._app: Application | None = None
        self._ef: int | None = None
        self._verified: set[int] = set()

    def tries_left(self, app_name: str, pin_fid: int) -> int:
        """Current retry counter of a PIN (for tests and diagnostics)."""
        for app in self._apps:
            if app.name == app_name:
                return app.pins[pin_fid].tries
        raise KeyError(app_name)

    def power_off(self) -> None:
        """Power loss: forget the selection and verified PINs (counters stay)."""
        with self._lock:
            self._app, self._ef = None, None
            self._verified.clear()

    power_on = power_off
    reset = power_off

    def process(self, apdu: bytes) -> bytes:
        """Run one command APDU and return response data + status word."""
        with self._lock:
            cmd = _parse(bytes(apdu))
            if cmd is None:
                return SW_WRONG_LENGTH
            if cmd.cla not in (0x00, 0x80):
                return SW_BAD_CLA
            handler = {0xA4: self._select, 0xB0: self._read, 0x20: self._verify, 0x2A: self._sign}.get(
                cmd.ins
            )
            if handler is None:
                return SW_BAD_INS
            if (cmd.ins == 0x2A) != (cmd.cla == 0x80):
                return SW_BAD_CLA
            return handler(cmd)

    def _select(self, cmd: _Command) -> bytes:
        if cmd.p2 not in (0x0C, 0x00):
            return SW_BAD_P1P2
        if cmd.p1 == 0x04:
            for app in self._apps:
                if app.aid == cmd.data:
                    self._app, self._ef = app, None
                    self._verified.clear()
                    return OK
            return SW_NOT_FOUND
        if cmd.p1 == 0x02:
            if len(cmd.data) != 2:
                return SW_WRONG_LENGTH
            fid = int.from_bytes(cmd.data, "big")
            if self._app is None or not self._app.has(fid):
                return SW_NOT_FOUND
            self._ef = fid
            return OK
        if cmd.p1 == 0x00:
            return SW_NOT_FOUND
        return SW_BAD_P1P2

    def _read(self, cmd: _Command) -> bytes:
        if cmd.p1 & 0x80:
            if cmd.p1 & 0x60:
                return SW_BAD_P1P2
            fid, offset = cmd.p1 & 0x1F, cmd.p2
            if self._app is None or not self._app.has(fid):
                return SW_NOT_FOUND
            self._ef = fid
        else:
            offset = (cmd.p1 << 8) | cmd.p2
            fid = self._ef  # type: ignore[assignment]
            if self._app is None or fid is None:
                return SW_NO_EF
        content = self._app.binaries.get(fid)
        if content is None:
            return SW_INCOMPATIBLE
        guard = self._app.guards.get(fid)
        if guard is not None and guard not in self._verified:
            return SW_SECURITY
        if offset >= len(content):
            return SW_OFFSET
        return content[offset : offset + (cmd.le or 256)] + OK

    def _verify(self, cmd: _Command) -> bytes:
        if cmd.p1 != 0x00 or not cmd.p2 & 0x80 or cmd.p2 & 0x60:
            return SW_BAD_P1P2
        if self._app is None:
            return SW_NO_DATA_REF
        fid = cmd.p2 & 0x1F if cmd.p2 & 0x1F else self._ef
        pin = self._app.pins.get(fid) if fid is not None else None
        if pin is None or fid is None:
            return SW_NO_DATA_REF
        if not cmd.data:
            if fid in self._verified:
                return OK
            return bytes((0x63, 0xC0 | pin.tries))
        if pin.tries == 0:
            return SW_BLOCKED
        if cmd.data == pin.value:
            pin.tries = pin.max_tries
            self._verified.add(fid)
            return OK
        pin.tries -= 1
        self._verified.discard(fid)
        _logger.debug("emulated card %s: wrong PIN, %d tries left", self.persona.name, pin.tries)
        return bytes((0x63, 0xC0 | pin.tries))

    def _sign(self, cmd: _Command) -> bytes:
        if cmd.p1 != 0x00 or cmd.p2 != 0x80:
            return SW_BAD_P1P2
        if self._app is None or self._ef is None:
            return SW_NO_EF
        key = self._app.keys.get(self._ef)
        if key is None:
            return SW_INCOMPATIBLE
        if key.pin not in self._verified:
            return SW_SECURITY
        if not cmd.data or len(cmd.data) > 256 - 11:
            return SW_WRONG_LENGTH
        return raw_pkcs1_sign(key.key, cmd.data) + OK
