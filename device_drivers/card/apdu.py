"""ISO 7816-4 command and response APDUs: building, parsing and log-safe descriptions.

Commands are frozen dataclasses encoded as short APDUs (Lc/Le ≤ 255/256) or, when asked,
extended ones (3-byte Lc, 2/3-byte Le). Responses are split into data and status word; a
response shorter than two bytes is a `CardMalformedResponse`, never an IndexError.
VERIFY data is never shown by `describe()`.
"""

from __future__ import annotations

from dataclasses import dataclass

from device_drivers.card.errors import CardMalformedResponse

__all__ = [
    "INS_READ_BINARY",
    "INS_SELECT",
    "INS_SIGN",
    "INS_VERIFY",
    "SW_OK",
    "CommandApdu",
    "ResponseApdu",
    "parse_response",
]

INS_SELECT = 0xA4
INS_VERIFY = 0x20
INS_READ_BINARY = 0xB0
INS_SIGN = 0x2A
SW_OK = 0x9000

_REDACTED_INS = frozenset({INS_VERIFY})


@dataclass(frozen=True, repr=False)
class CommandApdu:
    """A command APDU.

    Attributes:
        cla, ins, p1, p2: header bytes.
        data: command data (Lc is derived from it).
        le: expected response length; None = no Le, 256 (short) / 65536 (extended) = "all".
        extended: encode with extended Lc/Le.
    """

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None
    extended: bool = False

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            if not 0 <= getattr(self, name) <= 0xFF:
                raise ValueError(f"APDU {name} must be one byte")
        max_lc, max_le = (65535, 65536) if self.extended else (255, 256)
        if len(self.data) > max_lc:
            raise ValueError(
                f"APDU data of {len(self.data)} bytes needs {'chaining' if self.extended else 'extended'}"
            )
        if self.le is not None and not 0 < self.le <= max_le:
            raise ValueError(f"Le {self.le} out of range 1..{max_le}")

    def to_bytes(self) -> bytes:
        """Encode as ISO 7816-4 case 1-4, short or extended."""
        out = bytearray((self.cla, self.ins, self.p1, self.p2))
        if self.extended:
            if self.data:
                out += b"\x00" + len(self.data).to_bytes(2, "big") + self.data
            if self.le is not None:
                le = b"\x00\x00" if self.le == 65536 else self.le.to_bytes(2, "big")
                out += le if self.data else b"\x00" + le
        else:
            if self.data:
                out += bytes((len(self.data),)) + self.data
            if self.le is not None:
                out.append(self.le & 0xFF)
        return bytes(out)

    def describe(self) -> str:
        """A log-safe one-line description: header, Lc, Le; never VERIFY data."""
        head = f"{self.cla:02X} {self.ins:02X} {self.p1:02X} {self.p2:02X}"
        if self.data:
            body = "<redacted>" if self.ins in _REDACTED_INS else self.data.hex(" ").upper()
            head += f" Lc={len(self.data)} {body}"
        if self.le is not None:
            head += f" Le={self.le}"
        return head + (" (ext)" if self.extended else "")

    def __repr__(self) -> str:
        return f"CommandApdu({self.describe()})"


@dataclass(frozen=True)
class ResponseApdu:
    """A response APDU: data and status word."""

    data: bytes
    sw: int

    @property
    def ok(self) -> bool:
        """True on 90 00."""
        return self.sw == SW_OK

    @property
    def sw1(self) -> int:
        """First status byte."""
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        """Second status byte."""
        return self.sw & 0xFF

    def describe(self) -> str:
        """A log-safe description: data length and status word (never the data itself)."""
        return f"{len(self.data)} bytes, SW {self.sw:04X}"


def parse_response(raw: bytes | bytearray) -> ResponseApdu:
    """Split a raw response into data and status word.

    Raises:
        CardMalformedResponse: fewer than two bytes (no status word).
    """
    if len(raw) < 2:
        raise CardMalformedResponse(f"response of {len(raw)} bytes has no status word")
    return ResponseApdu(bytes(raw[:-2]), (raw[-2] << 8) | raw[-1])
