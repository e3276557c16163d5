"""The PIN as a secret: a mutable buffer that is wiped after use and never shown.

`Pin` holds ASCII digits in a `bytearray`; `wipe()` overwrites them, the context manager wipes
on exit, and `repr`/`str`/pickling never reveal it. PINs come from stdin (`read_pin`) or
from the kiosk's PIN pad, never from argv, and are only ever sent to the card.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import BinaryIO, NoReturn, Self

from device_drivers.card.errors import PinFormatError

__all__ = ["Pin", "read_pin"]

_logger = logging.getLogger(__name__)

_MAX_PIN = 16


class Pin:
    """A PIN held in a wipeable buffer. Takes ownership of (and later wipes) the bytearray given."""

    __slots__ = ("_buf",)

    def __init__(self, secret: bytearray) -> None:
        if not isinstance(secret, bytearray):
            raise TypeError("Pin takes a bytearray so that it can be wiped")
        self._buf = secret

    @classmethod
    def from_digits(cls, digits: str) -> Pin:
        """Build from a str (tests and the emulator; a str cannot be wiped, prefer bytearray)."""
        return cls(bytearray(digits.encode("ascii")))

    def __len__(self) -> int:
        return len(self._buf)

    def check_digits(self, count: int) -> None:
        """Raise `PinFormatError` unless the PIN is exactly `count` ASCII digits."""
        if len(self._buf) != count or not all(0x30 <= b <= 0x39 for b in self._buf):
            raise PinFormatError(f"the PIN must be exactly {count} digits")

    def check_alphanumeric(self, low: int, high: int) -> None:
        """Raise `PinFormatError` unless the PIN is `low`..`high` characters of A-Z / 0-9."""
        ok = low <= len(self._buf) <= high and all(0x30 <= b <= 0x39 or 0x41 <= b <= 0x5A for b in self._buf)
        if not ok:
            raise PinFormatError(f"the password must be {low}-{high} characters A-Z or 0-9")

    def apdu_with(self, header: bytes) -> bytearray:
        """A new wipeable buffer: `header`, Lc and the PIN (the caller must wipe it)."""
        out = bytearray(header)
        out.append(len(self._buf))
        out += self._buf
        return out

    def wipe(self) -> None:
        """Overwrite the secret with zeros and forget its length."""
        for i in range(len(self._buf)):
            self._buf[i] = 0
        self._buf.clear()

    @property
    def wiped(self) -> bool:
        """True once `wipe()` ran."""
        return not self._buf

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.wipe()

    def __repr__(self) -> str:
        return "Pin(<redacted>)"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Pin cannot be pickled")


def wipe(buf: bytearray) -> None:
    """Overwrite a buffer that held a PIN."""
    for i in range(len(buf)):
        buf[i] = 0


def read_pin(stream: BinaryIO) -> Pin:
    """Read one PIN line from a binary stream (stdin) straight into a wipeable buffer.

    Raises:
        PinFormatError: nothing was given or the line is too long.
    """
    buf = bytearray(_MAX_PIN + 2)
    count = 0
    one = bytearray(1)
    while count < len(buf):
        got = stream.readinto(one)  # type: ignore[attr-defined]
        if not got or one[0] in (0x0A, 0x0D):
            break
        buf[count] = one[0]
        count += 1
    one[0] = 0
    if count > _MAX_PIN:
        wipe(buf)
        raise PinFormatError(f"the PIN on stdin is longer than {_MAX_PIN} characters")
    pin = Pin(bytearray(buf[:count]))
    wipe(buf)
    if count == 0:
        raise PinFormatError("no PIN on stdin: pipe it in, e.g. from the PIN pad helper")
    _logger.debug("PIN read from stdin (%d characters)", count)
    return pin
