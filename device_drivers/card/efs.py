"""Selecting applications and EFs, reading whole EFs, and PIN status: the APDU steps that the
JPKI and 券面事項入力補助 operations share.

EFs are read by short EF identifier (READ BINARY with P1 = 80|SFI), which selects and reads in
one APDU; a card that refuses SFI gets SELECT + READ instead. Length discovery follows the
TLV header of the first chunk; chunks are short (≤ 256) unless the reader passes extended APDUs.
"""

from __future__ import annotations

import logging

from device_drivers.card.apdu import INS_READ_BINARY, INS_SELECT, INS_VERIFY, CommandApdu, ResponseApdu
from device_drivers.card.channel import CardChannel
from device_drivers.card.errors import (
    CardMalformedResponse,
    PinBlocked,
    PinIncorrect,
    PinRequired,
    UnexpectedStatusWord,
)
from device_drivers.card.pin import Pin
from device_drivers.card.tlv import decode_header

__all__ = ["pin_tries_left", "read_ef", "select_ap", "select_ef", "verify_pin"]

_logger = logging.getLogger(__name__)

SW_NOT_FOUND = 0x6A82
SW_SECURITY = 0x6982
SW_BLOCKED = (0x6983, 0x6984)
_SFI_REFUSED = (0x6A86, 0x6A81, 0x6981, 0x6986, 0x6D00, 0x6E00, 0x6B00, 0x6700)
_EOF = (0x6B00, 0x6282)
_SHORT_MAX = 256
_FIRST_CHUNK = 256


def select_ap(ch: CardChannel, aid: bytes) -> ResponseApdu:
    """SELECT an application by DF name (no FCI); the caller checks for 6A82."""
    return ch.send(CommandApdu(0x00, INS_SELECT, 0x04, 0x0C, aid))


def select_ef(ch: CardChannel, fid: int, step: str) -> None:
    """SELECT an EF by file id in the current application."""
    resp = ch.send(CommandApdu(0x00, INS_SELECT, 0x02, 0x0C, fid.to_bytes(2, "big")))
    if not resp.ok:
        raise UnexpectedStatusWord(f"{step}: select EF {fid:04X}", resp.sw)


def _check_read(resp: ResponseApdu, fid: int, step: str) -> None:
    if resp.sw == SW_SECURITY:
        raise PinRequired(f"{step}: EF {fid:04X} needs a verified PIN")
    if not resp.ok and resp.sw not in _EOF:
        raise UnexpectedStatusWord(f"{step}: read EF {fid:04X}", resp.sw)


def read_ef(ch: CardChannel, fid: int, step: str, *, first: int = _FIRST_CHUNK) -> bytes:
    """Read a whole TLV-structured EF (certificate, kenhojo file).

    Raises:
        PinRequired: the EF needs a PIN not yet verified (6982).
        CardMalformedResponse: the content is shorter than its TLV header says.
    """
    resp = ch.send(CommandApdu(0x00, INS_READ_BINARY, 0x80 | fid, 0x00, le=first))
    if resp.sw in _SFI_REFUSED:
        _logger.debug("%s: card refused SFI read (SW %04X), selecting EF %04X", step, resp.sw, fid)
        select_ef(ch, fid, step)
        resp = ch.send(CommandApdu(0x00, INS_READ_BINARY, 0x00, 0x00, le=first))
    _check_read(resp, fid, step)
    buf = bytearray(resp.data)
    if len(buf) < 2:
        raise CardMalformedResponse(f"{step}: EF {fid:04X} returned {len(buf)} bytes, too short for a TLV")
    _tag, header, length = decode_header(bytes(buf[:7]))
    total = header + length
    if total > 0x7FFF:
        raise CardMalformedResponse(f"{step}: EF {fid:04X} claims {total} bytes, more than an EF can hold")
    while len(buf) < total:
        want = total - len(buf)
        extended = ch.extended_length and want > _SHORT_MAX
        if not extended:
            want = min(want, _SHORT_MAX)
        off = len(buf)
        resp = ch.send(CommandApdu(0x00, INS_READ_BINARY, off >> 8, off & 0xFF, le=want, extended=extended))
        _check_read(resp, fid, step)
        if not resp.data:
            break
        buf += resp.data
        if resp.sw in _EOF:
            break
    if len(buf) < total:
        raise CardMalformedResponse(f"{step}: EF {fid:04X} ended after {len(buf)} of {total} bytes")
    return bytes(buf[:total])


def _verify(ch: CardChannel, fid: int, pin: Pin | None, step: str) -> ResponseApdu:
    """VERIFY on PIN EF `fid` addressed by SFI (P2 = 80|SFI); SELECT + P2 = 80 if refused."""
    header = bytes((0x00, INS_VERIFY, 0x00, 0x80 | fid))
    resp = ch.send_pin(header, pin) if pin is not None else ch.send(CommandApdu(0, INS_VERIFY, 0, 0x80 | fid))
    if resp.sw in (0x6A86, 0x6A88, 0x6A81, 0x6B00):
        select_ef(ch, fid, step)
        header = bytes((0x00, INS_VERIFY, 0x00, 0x80))
        resp = ch.send_pin(header, pin) if pin is not None else ch.send(CommandApdu(0, INS_VERIFY, 0, 0x80))
    return resp


def pin_tries_left(ch: CardChannel, fid: int, max_tries: int, step: str) -> int:
    """Remaining tries of PIN EF `fid`, by an empty VERIFY that spends none."""
    resp = _verify(ch, fid, None, step)
    if resp.sw1 == 0x63 and resp.sw2 & 0xF0 == 0xC0:
        return resp.sw2 & 0x0F
    if resp.sw in SW_BLOCKED:
        return 0
    if resp.ok:  # already verified in this session
        return max_tries
    raise UnexpectedStatusWord(f"{step}: PIN status", resp.sw)


def verify_pin(ch: CardChannel, fid: int, pin: Pin, step: str) -> None:
    """VERIFY `pin` on PIN EF `fid`.

    Raises:
        PinIncorrect: wrong PIN, with tries left (1 = last-try warning).
        PinBlocked: the PIN is (now) locked.
    """
    resp = _verify(ch, fid, pin, step)
    if resp.ok:
        _logger.info("%s: PIN accepted", step)
        return
    if resp.sw1 == 0x63 and resp.sw2 & 0xF0 == 0xC0:
        left = resp.sw2 & 0x0F
        _logger.info("%s: PIN refused, %d tries left", step, left)
        if left == 0:
            raise PinBlocked(f"{step}: PIN locked by this attempt")
        raise PinIncorrect(left)
    if resp.sw in SW_BLOCKED:
        raise PinBlocked(f"{step}: PIN is locked (SW {resp.sw:04X})")
    raise UnexpectedStatusWord(f"{step}: VERIFY", resp.sw)
