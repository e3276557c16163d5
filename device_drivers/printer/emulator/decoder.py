"""ESC/POS stream decoder for the virtual printer: bytes in, frozen command objects out.

It is incremental: `feed()` takes whatever arrived and returns the complete commands; a command
cut between two reads waits for the rest. It understands what our driver sends (init,
alignment, sizes, raster GS v 0, QR GS ( k, barcodes GS k, cut, kanji mode, status requests)
and skips other commands by their known lengths.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Align",
    "Barcode",
    "BarcodeSetting",
    "Bold",
    "CharSize",
    "Command",
    "Cut",
    "Decoder",
    "Feed",
    "Init",
    "KanjiMode",
    "LineFeed",
    "Other",
    "QrPrint",
    "QrSetting",
    "Raster",
    "RealTimeStatus",
    "TextBytes",
    "TransmitStatus",
]


@dataclass(frozen=True)
class Init:
    """ESC @."""


@dataclass(frozen=True)
class Align:
    """ESC a n: 0 left, 1 centre, 2 right."""

    value: int


@dataclass(frozen=True)
class Bold:
    """ESC E n."""

    on: bool


@dataclass(frozen=True)
class CharSize:
    """GS ! n: width and height magnification (1-8)."""

    width: int
    height: int


@dataclass(frozen=True)
class Feed:
    """ESC J n (dots) or ESC d n (lines)."""

    dots: int = 0
    lines: int = 0


@dataclass(frozen=True)
class LineFeed:
    """LF: print the line buffer."""


@dataclass(frozen=True)
class TextBytes:
    """Printable bytes for the line buffer."""

    data: bytes


@dataclass(frozen=True)
class Raster:
    """GS v 0: width in dots, height in rows, packed 1-bit rows (MSB = leftmost dot)."""

    width: int
    height: int
    data: bytes


@dataclass(frozen=True)
class QrSetting:
    """GS ( k for QR: fn 65 model, 67 module size, 69 error correction, 80 store data."""

    fn: int
    value: bytes


@dataclass(frozen=True)
class QrPrint:
    """GS ( k fn 81: print the stored QR symbol."""


@dataclass(frozen=True)
class Barcode:
    """GS k m ...: barcode system and data."""

    system: int
    data: bytes


@dataclass(frozen=True)
class BarcodeSetting:
    """GS h n (height in dots) or GS w n (module width)."""

    name: str
    value: int


@dataclass(frozen=True)
class Cut:
    """GS V m [n]; `feed`: m = 65/66/97/98/103/104, which feed to the cutting position first."""

    partial: bool
    feed: bool = False


@dataclass(frozen=True)
class KanjiMode:
    """FS C n (code system), FS & (on) or FS . (off)."""

    code_system: int | None = None
    on: bool | None = None


@dataclass(frozen=True)
class RealTimeStatus:
    """DLE EOT n."""

    n: int


@dataclass(frozen=True)
class TransmitStatus:
    """GS r n: status sent back when processed, in order with the data."""

    n: int


@dataclass(frozen=True)
class Other:
    """A command we do not model (kept for the job summary)."""

    data: bytes


Command = (
    Init | Align | Bold | CharSize | Feed | LineFeed | TextBytes | Raster | QrSetting | QrPrint | Barcode
    | BarcodeSetting    | Cut | KanjiMode | RealTimeStatus | TransmitStatus | Other
)  # fmt: skip

# Parameter byte counts of commands we skip or decode by fixed length: prefix -> count.
_FIXED = {
    b"\x1b\x21": 1, b"\x1b\x2d": 1, b"\x1b\x32": 0, b"\x1b\x33": 1, b"\x1b\x4d": 1, b"\x1b\x47": 1,
    b"\x1b\x74": 1, b"\x1b\x56": 1, b"\x1b\x7b": 1, b"\x1b\x52": 1, b"\x1b\x20": 1, b"\x1b\x64": 1,
    b"\x1b\x4a": 1, b"\x1b\x61": 1, b"\x1b\x45": 1, b"\x1b\x40": 0, b"\x1b\x70": 3,
    b"\x1d\x21": 1, b"\x1d\x42": 1, b"\x1d\x48": 1, b"\x1d\x66": 1, b"\x1d\x68": 1, b"\x1d\x77": 1,
    b"\x1d\x61": 1, b"\x1d\x72": 1, b"\x1d\x4c": 2, b"\x1d\x57": 2, b"\x1d\x62": 1,
    b"\x1c\x43": 1, b"\x1c\x26": 0, b"\x1c\x2e": 0, b"\x1c\x21": 1, b"\x1c\x2d": 1, b"\x1c\x57": 1,
    b"\x10\x04": 1, b"\x10\x05": 1, b"\x10\x14": 3,
}  # fmt: skip


class Decoder:
    """Incremental ESC/POS decoder."""

    def __init__(self) -> None:
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        """Bytes waiting for the rest of their command."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Command]:
        """Add `data`; return every command now complete."""
        self._buf += data
        out: list[Command] = []
        while self._buf:
            parsed = self._one()
            if parsed is None:
                break
            command, used = parsed
            del self._buf[:used]
            if command is not None:
                out.append(command)
        return out

    def _one(self) -> tuple[Command | None, int] | None:
        buf = self._buf
        first = buf[0]
        if first == 0x0A:
            return LineFeed(), 1
        if first == 0x0D:
            return None, 1
        if first not in (0x1B, 0x1D, 0x1C, 0x10):
            end = 1
            while end < len(buf) and buf[end] not in (0x0A, 0x0D, 0x1B, 0x1D, 0x1C, 0x10):
                end += 1
            return TextBytes(bytes(buf[:end])), end
        if len(buf) < 2:
            return None
        prefix = bytes(buf[:2])
        if prefix == b"\x1d\x76":
            return self._raster()
        if prefix == b"\x1d\x28":
            return self._gs_paren()
        if prefix == b"\x1d\x6b":
            return self._barcode()
        if prefix == b"\x1d\x56":
            if len(buf) < 3:
                return None
            m = buf[2]
            feed = m in (65, 66, 97, 98, 103, 104)
            used = 4 if feed else 3
            return (Cut(partial=m in (1, 49, 66, 98, 104), feed=feed), used) if len(buf) >= used else None
        count = _FIXED.get(prefix)
        if count is None:
            return Other(prefix), 2
        if len(buf) < 2 + count:
            return None
        return self._fixed(prefix, bytes(buf[2 : 2 + count])), 2 + count

    @staticmethod
    def _fixed(prefix: bytes, args: bytes) -> Command:
        simple: dict[bytes, Command] = {
            b"\x1b\x40": Init(),
            b"\x1c\x26": KanjiMode(on=True),
            b"\x1c\x2e": KanjiMode(on=False),
        }
        if prefix in simple:
            return simple[prefix]
        n = args[0] if args else 0
        if prefix == b"\x1b\x61":
            return Align(n % 48 if n >= 48 else n)
        if prefix == b"\x1b\x45":
            return Bold(bool(n & 1))
        if prefix == b"\x1b\x4a":
            return Feed(dots=n)
        if prefix == b"\x1b\x64":
            return Feed(lines=n)
        if prefix == b"\x1d\x21":
            return CharSize((n >> 4) + 1, (n & 0x0F) + 1)
        if prefix == b"\x1c\x43":
            return KanjiMode(code_system=n % 48 if n >= 48 else n)
        if prefix == b"\x10\x04":
            return RealTimeStatus(n)
        if prefix in (b"\x1d\x68", b"\x1d\x77"):
            return BarcodeSetting("height" if prefix == b"\x1d\x68" else "width", n)
        if prefix == b"\x1d\x72":
            return TransmitStatus(n)
        return Other(prefix + args)

    def _raster(self) -> tuple[Command, int] | None:
        buf = self._buf
        if len(buf) < 8:
            return None
        width_bytes = buf[4] + 256 * buf[5]
        height = buf[6] + 256 * buf[7]
        size = width_bytes * height
        if len(buf) < 8 + size:
            return None
        return Raster(width_bytes * 8, height, bytes(buf[8 : 8 + size])), 8 + size

    def _gs_paren(self) -> tuple[Command, int] | None:
        buf = self._buf
        if len(buf) < 5:
            return None
        length = buf[3] + 256 * buf[4]
        if len(buf) < 5 + length:
            return None
        body = bytes(buf[5 : 5 + length])
        used = 5 + length
        if buf[2] == 0x6B and len(body) >= 2 and body[0] == 49:  # cn 49 = QR
            fn = body[1]
            if fn == 81:
                return QrPrint(), used
            return QrSetting(fn, body[2:]), used
        return Other(bytes(buf[:3]) + body[:2]), used

    def _barcode(self) -> tuple[Command, int] | None:
        buf = self._buf
        if len(buf) < 3:
            return None
        m = buf[2]
        if m <= 6:
            end = buf.find(b"\x00", 3)
            if end < 0:
                return None
            return Barcode(m, bytes(buf[3:end])), end + 1
        if len(buf) < 4:
            return None
        n = buf[3]
        if len(buf) < 4 + n:
            return None
        return Barcode(m, bytes(buf[4 : 4 + n])), 4 + n
