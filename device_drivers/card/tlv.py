"""BER-TLV as used on the My Number card: multi-byte tags (``FF 20``, ``DF 21``) and
definite lengths of 1-4 bytes (``81 xx``, ``82 xx xx``, ``83 xx xx xx``).

Every parse error is a `CardMalformedResponse` saying where and what; no IndexError escapes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from device_drivers.card.errors import CardMalformedResponse

__all__ = ["Tlv", "decode_header", "encode_tlv", "iter_tlvs", "parse_one"]

_MAX_TAG_BYTES = 3


@dataclass(frozen=True, repr=False)
class Tlv:
    """One decoded TLV: its tag as an int (``0xFF20``), its value and where it ended."""

    tag: int
    value: bytes
    end: int

    def __repr__(self) -> str:  # values may be personal data: never shown
        return f"Tlv(tag={self.tag:X}, {len(self.value)} bytes)"


def decode_header(buf: bytes, offset: int = 0) -> tuple[int, int, int]:
    """Decode the tag and length at `offset`.

    Returns:
        (tag, header size in bytes, value length).

    Raises:
        CardMalformedResponse: truncated header, indefinite or oversized length.
    """
    pos = offset
    if pos >= len(buf):
        raise CardMalformedResponse(f"TLV at offset {offset}: no tag byte")
    first = buf[pos]
    tag = first
    pos += 1
    if first & 0x1F == 0x1F:
        while True:
            if pos >= len(buf):
                raise CardMalformedResponse(f"TLV at offset {offset}: tag is truncated")
            if pos - offset >= _MAX_TAG_BYTES:
                raise CardMalformedResponse(f"TLV at offset {offset}: tag longer than {_MAX_TAG_BYTES} bytes")
            byte = buf[pos]
            tag = (tag << 8) | byte
            pos += 1
            if not byte & 0x80:
                break
    if pos >= len(buf):
        raise CardMalformedResponse(f"TLV at offset {offset}: length is missing")
    lead = buf[pos]
    pos += 1
    if lead < 0x80:
        length = lead
    elif lead == 0x80:
        raise CardMalformedResponse(f"TLV at offset {offset}: indefinite length is not allowed here")
    else:
        count = lead & 0x7F
        if count > 3:
            raise CardMalformedResponse(f"TLV at offset {offset}: length of {count} bytes is too large")
        if pos + count > len(buf):
            raise CardMalformedResponse(f"TLV at offset {offset}: length is truncated")
        length = int.from_bytes(buf[pos : pos + count], "big")
        pos += count
    return tag, pos - offset, length


def parse_one(buf: bytes, offset: int = 0) -> Tlv:
    """Decode the TLV at `offset`, checking its value lies within `buf`."""
    tag, header, length = decode_header(buf, offset)
    start = offset + header
    end = start + length
    if end > len(buf):
        raise CardMalformedResponse(
            f"TLV {tag:X} at offset {offset}: value of {length} bytes runs past the {len(buf)}-byte buffer"
        )
    return Tlv(tag, bytes(buf[start:end]), end)


def iter_tlvs(buf: bytes) -> Iterator[Tlv]:
    """Decode consecutive TLVs filling `buf` exactly."""
    offset = 0
    while offset < len(buf):
        item = parse_one(buf, offset)
        yield item
        offset = item.end


def encode_tlv(tag: int, value: bytes) -> bytes:
    """Encode one TLV with a minimal definite length (used by the emulator and tests)."""
    tag_bytes = tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")
    n = len(value)
    if n < 0x80:
        length = bytes((n,))
    else:
        size = (n.bit_length() + 7) // 8
        if size > 3:
            raise ValueError("TLV value too long")
        length = bytes((0x80 | size,)) + n.to_bytes(size, "big")
    return tag_bytes + length + value
