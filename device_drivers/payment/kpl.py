"""Kiosk Payment Link v1 framing: `STX | SEQ(2) | LEN(4) | payload | ETX | LRC` (reference §2.2).

The parser is a pure function of the byte stream (plus the inter-byte timer): whatever the
chunking, the same frames come out; it never raises on any input.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields

from device_drivers.payment.codec import Control, LineSettings, ParseEvent, Received, Rejected, Timers
from device_drivers.payment.messages import (
    Abort,
    Confirm,
    Inquiry,
    InquiryReply,
    InquiryStatus,
    Message,
    Method,
    Phase,
    Progress,
    Result,
    ResultCode,
    Sale,
    Status,
    StatusReply,
    TerminalState,
    Void,
)

__all__ = ["ACK", "ETX", "FS", "NAK", "STX", "KplCodec", "KplParser", "LrcSettings", "lrc"]

_logger = logging.getLogger(__name__)

STX, ETX, ACK, NAK, FS = 0x02, 0x03, 0x06, 0x15, 0x1C
MIN_LEN, MAX_LEN = 3, 1024
_HEADER = 7  # STX + SEQ(2) + LEN(4)
_DIGITS = frozenset(b"0123456789")
_LEGAL = frozenset(range(0x20, 0x7F)) | {FS}

_NEED_MORE = object()
_SKIPPED = object()
_TYPES: dict[str, type] = {
    cls.TYPE: cls
    for cls in (Status, Sale, Abort, Inquiry, Void, Confirm, StatusReply, Progress, Result, InquiryReply)
}
_RES_FIELDS = tuple(f.name for f in fields(Result))[2:]  # after ref and result
_INT_FIELDS = frozenset({"amount", "bal_before", "bal_after"})
_ENUMS: dict[str, type] = {
    "method": Method,
    "state": TerminalState,
    "phase": Phase,
    "result": ResultCode,
    "status": InquiryStatus,
}


@dataclass(frozen=True)
class LrcSettings:
    """Checksum coverage and start value."""

    include_stx: bool = False
    include_etx: bool = True
    start: int = 0x00


def lrc(data: bytes, start: int = 0x00) -> int:
    """XOR of `data`, starting from `start`."""
    value = start
    for byte in data:
        value ^= byte
    return value


def _frame_lrc(settings: LrcSettings, stx: bytes, body: bytes, etx: bytes) -> int:
    covered = (stx if settings.include_stx else b"") + body + (etx if settings.include_etx else b"")
    return lrc(covered, settings.start)


def _encode_payload(message: Message) -> bytes:
    values: list[object]
    if isinstance(message, InquiryReply):
        values = [message.ref, message.status]
        res = message.result
        values += [getattr(res, name) if res is not None else None for name in _RES_FIELDS]
    else:
        values = [getattr(message, f.name) for f in fields(message)]
    parts = [message.TYPE] + ["" if v is None else str(v) for v in values]
    text = "\x1c".join(parts)
    data = text.encode("ascii")
    if not all(b in _LEGAL for b in data):
        raise ValueError(f"{message.TYPE}: field with a byte outside 0x20-0x7E")
    return data


def _convert(name: str, raw: str) -> object:
    if raw == "":
        return None
    if name in _INT_FIELDS:
        if not raw.isdigit() or len(raw) > 9:
            raise ValueError(name)
        return int(raw)
    enum_type = _ENUMS.get(name)
    return enum_type(raw) if enum_type is not None else raw


def decode_payload(payload: bytes) -> Message:
    """Decode a payload; ValueError on unknown TYPE or malformed fields."""
    parts = payload.decode("ascii").split("\x1c")
    cls = _TYPES.get(parts[0])
    if cls is None:
        raise ValueError("unknown TYPE")
    values = parts[1:]
    if cls is InquiryReply:
        if len(values) != 2 + len(_RES_FIELDS):
            raise ValueError("field count")
        ref, status = values[0], InquiryStatus(values[1])
        if not ref:
            raise ValueError("ref")
        result = None
        if status not in (InquiryStatus.IN_PROGRESS, InquiryStatus.NOT_FOUND):
            extra = {n: _convert(n, v) for n, v in zip(_RES_FIELDS, values[2:], strict=True)}
            result = Result(ref=ref, result=ResultCode(status.value), **extra)  # type: ignore[arg-type]
        return InquiryReply(ref=ref, status=status, result=result)
    names = [f.name for f in fields(cls)]
    if len(values) != len(names):
        raise ValueError("field count")
    kwargs = {n: _convert(n, v) for n, v in zip(names, values, strict=True)}
    for required in ("ref", "state", "phase", "result", "status", "currency"):
        if required in kwargs and kwargs[required] is None:
            raise ValueError(required)
    message: Message = cls(**kwargs)
    return message


@dataclass
class KplParser:
    """Incremental KPL v1 frame parser with the T_CHAR inter-byte timer."""

    lrc_settings: LrcSettings = field(default_factory=LrcSettings)
    t_char: float = 0.2
    _buf: bytearray = field(default_factory=bytearray)
    _last: float = 0.0
    dropped_partials: int = 0
    skipped_stx: int = 0

    def feed(self, data: bytes, now: float) -> list[ParseEvent]:
        """Add bytes received at monotonic time `now`; return completed events."""
        self.expire(now)
        if data:
            self._buf += data
            self._last = now
        return self._scan()

    def expire(self, now: float) -> bool:
        """Drop a partial frame when the line was silent longer than T_CHAR inside it."""
        if self._buf and self._buf[0] == STX and now - self._last > self.t_char:
            self._buf.clear()
            self.dropped_partials += 1
            return True
        return False

    def _scan(self) -> list[ParseEvent]:
        events: list[ParseEvent] = []
        buf = self._buf
        while buf:
            start = buf.find(STX)
            hunt = buf if start < 0 else buf[:start]
            for byte in hunt:
                if byte in (ACK, NAK):
                    events.append(Control(ack=byte == ACK))
            if start < 0:
                buf.clear()
                break
            del buf[:start]
            outcome = self._try_frame()
            if outcome is _NEED_MORE:
                break
            if outcome is not _SKIPPED:
                events.append(outcome)  # type: ignore[arg-type]
        return events

    def _try_frame(self) -> ParseEvent | object:
        """Parse the frame at buf[0] == STX: an event, _SKIPPED, or _NEED_MORE."""
        buf = self._buf
        header = buf[1:_HEADER]
        if any(b not in _DIGITS for b in header):
            del buf[:1]  # a stray STX in line noise, not a frame: skip it silently
            self.skipped_stx += 1
            return _SKIPPED
        if len(buf) < _HEADER:
            return _NEED_MORE
        length = int(header[2:].decode("ascii"))
        if not MIN_LEN <= length <= MAX_LEN:
            del buf[:1]
            return Rejected("bad LEN")
        payload = buf[_HEADER : _HEADER + length]
        if any(b not in _LEGAL for b in payload):
            del buf[:1]
            return Rejected("illegal byte")
        if len(buf) < _HEADER + length + 1:
            return _NEED_MORE
        if buf[_HEADER + length] != ETX:
            del buf[:1]
            return Rejected("misplaced ETX")
        total = _HEADER + length + 2
        if len(buf) < total:
            return _NEED_MORE
        frame = bytes(buf[:total])
        del buf[:total]
        expected = _frame_lrc(
            self.lrc_settings, frame[:1], frame[1 : total - 2], frame[total - 2 : total - 1]
        )
        if frame[-1] != expected:
            return Rejected("bad LRC")
        try:
            message = decode_payload(frame[_HEADER : _HEADER + length])
        except (ValueError, TypeError, UnicodeDecodeError):
            return Rejected("bad payload")
        return Received(seq=int(frame[1:3].decode("ascii")), message=message, raw=frame)


@dataclass(frozen=True)
class KplCodec:
    """Kiosk Payment Link v1 codec."""

    name: str = "kpl1"
    ack: bytes = bytes([ACK])
    nak: bytes = bytes([NAK])
    line: LineSettings = field(default_factory=LineSettings)
    timers: Timers = field(default_factory=Timers)
    lrc_settings: LrcSettings = field(default_factory=LrcSettings)

    def encode(self, seq: int, message: Message) -> bytes:
        """The complete frame for `message`."""
        if not 0 <= seq <= 99:
            raise ValueError("SEQ must be 0-99")
        payload = _encode_payload(message)
        if not MIN_LEN <= len(payload) <= MAX_LEN:
            raise ValueError("payload length out of range")
        body = f"{seq:02d}{len(payload):04d}".encode("ascii") + payload
        check = _frame_lrc(self.lrc_settings, bytes([STX]), body, bytes([ETX]))
        return bytes([STX]) + body + bytes([ETX, check])

    def next_seq(self, seq: int) -> int:
        """SEQ runs 00-99 and wraps."""
        return (seq + 1) % 100

    def parser(self) -> KplParser:
        """A fresh parser using this codec's checksum settings and inter-byte timer."""
        return KplParser(lrc_settings=self.lrc_settings, t_char=self.timers.t_char)
