"""PC/SC access through pyscard's thin `smartcard.scard` layer: readers and one card transport.

Return codes are translated here, once: a card that left the reader becomes `CardRemoved`, a
reader or pcscd that went away becomes `ReaderGone`. The card is reset on close so that no
verified PIN survives the session. pyscard is imported lazily (nothing happens at import).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from device_drivers.card.errors import (
    CardRemoved,
    NoCardPresent,
    ReaderAmbiguous,
    ReaderGone,
    ReaderNotFound,
)
from device_drivers.errors import CardError

__all__ = ["PcscTransport", "ReaderInfo", "list_readers", "pick_reader", "scard_module"]

_logger = logging.getLogger(__name__)

_GONE_WAIT = 1.5  # pcscd polls vpcd every 0.4 s
_CARD_GONE = ("SCARD_W_REMOVED_CARD", "SCARD_E_NO_SMARTCARD", "SCARD_W_RESET_CARD", "SCARD_W_UNPOWERED_CARD")
_READER_GONE = (
    "SCARD_E_READER_UNAVAILABLE",
    "SCARD_E_UNKNOWN_READER",
    "SCARD_E_NO_SERVICE",
    "SCARD_E_SERVICE_STOPPED",
    "SCARD_E_NO_READERS_AVAILABLE",
    "SCARD_E_INVALID_HANDLE",
    "SCARD_F_COMM_ERROR",
)


def scard_module() -> Any:
    """Import pyscard's `smartcard.scard` (lazily) or explain how to install it."""
    try:
        from smartcard import scard
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ReaderGone("pyscard is not installed: pip install 'madoguchi[kiosk]'") from exc
    return scard


def _codes(scard: Any, names: tuple[str, ...]) -> set[int]:
    return {getattr(scard, n) & 0xFFFFFFFF for n in names if hasattr(scard, n)}


def _error(scard: Any, hresult: int, step: str, reader: str) -> CardError:
    code = hresult & 0xFFFFFFFF
    text = f"{step} on {reader!r}: {scard.SCardGetErrorMessage(hresult)} (0x{code:08X})"
    if code in _codes(scard, _CARD_GONE):
        return CardRemoved(text)
    if code in _codes(scard, _READER_GONE):
        return ReaderGone(text)
    return CardError(text, code="card.pcsc_error")


@dataclass(frozen=True)
class ReaderInfo:
    """One PC/SC reader and whether a card is in it."""

    name: str
    card_present: bool
    atr: bytes = b""


def list_readers() -> list[ReaderInfo]:
    """All readers pcscd knows, with card presence.

    Raises:
        ReaderGone: pcscd is not running.
    """
    scard = scard_module()
    hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hr != scard.SCARD_S_SUCCESS:
        raise _error(scard, hr, "connect to pcscd", "-")
    try:
        hr, names = scard.SCardListReaders(ctx, [])
        if hr & 0xFFFFFFFF == scard.SCARD_E_NO_READERS_AVAILABLE & 0xFFFFFFFF:
            return []
        if hr != scard.SCARD_S_SUCCESS:
            raise _error(scard, hr, "list readers", "-")
        hr, states = scard.SCardGetStatusChange(ctx, 0, [(n, scard.SCARD_STATE_UNAWARE) for n in names])
        if hr != scard.SCARD_S_SUCCESS:
            raise _error(scard, hr, "read reader states", "-")
        return [
            ReaderInfo(name, bool(state & scard.SCARD_STATE_PRESENT), bytes(atr))
            for name, state, atr in states
        ]
    finally:
        scard.SCardReleaseContext(ctx)


def pick_reader(configured: str | None, names: list[str]) -> str:
    """Choose the reader: the exact configured name, else the one reader containing it.

    Raises:
        ReaderNotFound: nothing matches (the message lists what exists).
        ReaderAmbiguous: several readers match and none exactly.
    """
    if configured and configured in names:
        return configured
    matches = [n for n in names if configured is None or configured.lower() in n.lower()]
    if len(matches) == 1:
        return matches[0]
    shown = ", ".join(repr(n) for n in names) or "none"
    if not matches:
        raise ReaderNotFound(f"no card reader named {configured!r}; readers present: {shown}")
    raise ReaderAmbiguous(
        f"{len(matches)} readers match {configured or 'any'!r} ({shown}); configure the exact reader name"
    )


class PcscTransport:
    """One connection to the card in one PC/SC reader."""

    def __init__(self, reader: str | None, *, extended_length: bool = False) -> None:
        self._wanted = reader
        self._reader = reader or "?"
        self._extended = extended_length
        self._scard = scard_module()
        self._ctx: Any = None
        self._card: Any = None
        self._protocol = 0
        self._in_transaction = False

    @property
    def name(self) -> str:
        """The reader's PC/SC name."""
        return self._reader

    @property
    def extended_length(self) -> bool:
        """Whether extended APDUs are used with this reader (configured, not probed)."""
        return self._extended

    def open(self) -> PcscTransport:
        """Connect to the card (shared mode, T=0 or T=1).

        Raises:
            ReaderNotFound, ReaderAmbiguous, ReaderGone, NoCardPresent.
        """
        scard = self._scard
        hr, self._ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hr != scard.SCARD_S_SUCCESS:
            raise _error(scard, hr, "connect to pcscd", self._reader)
        try:
            hr, names = scard.SCardListReaders(self._ctx, [])
            if hr != scard.SCARD_S_SUCCESS:
                names = []
            self._reader = pick_reader(self._wanted, list(names))
            hr, card, protocol = scard.SCardConnect(
                self._ctx,
                self._reader,
                scard.SCARD_SHARE_SHARED,
                scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
            )
            if hr != scard.SCARD_S_SUCCESS:
                err = _error(scard, hr, "connect to the card", self._reader)
                if isinstance(err, CardRemoved):
                    raise NoCardPresent(err.detail) from None
                raise err
            self._card, self._protocol = card, protocol
            # One transaction per session: no other PC/SC client can slip APDUs (and change the
            # selected EF) between ours.
            hr = scard.SCardBeginTransaction(card)
            if hr != scard.SCARD_S_SUCCESS:
                raise _error(scard, hr, "begin transaction", self._reader)
            self._in_transaction = True
        except BaseException:
            self._release()
            raise
        _logger.debug("connected to the card in %r (protocol %d)", self._reader, self._protocol)
        return self

    def transmit(self, apdu: bytes | bytearray) -> bytes:
        """Send one APDU; translate PC/SC errors into card errors."""
        if self._card is None:
            raise CardRemoved(f"no connection to the card in {self._reader!r}")
        scard = self._scard
        hr, response = scard.SCardTransmit(self._card, self._protocol, list(apdu))
        if hr != scard.SCARD_S_SUCCESS:
            raise self._transmit_error(hr)
        if len(response) < 2 and self._card_gone(_GONE_WAIT):
            # vpcd (and some readers) answer "success, 0 bytes" when the card leaves mid-command.
            raise CardRemoved(f"the card left {self._reader!r} during a command")
        return bytes(response)

    def _card_gone(self, wait: float) -> bool:
        """True when pcscd reports no card (or no reader) within `wait` seconds."""
        scard = self._scard
        deadline = time.monotonic() + wait
        while True:
            rc, states = scard.SCardGetStatusChange(self._ctx, 0, [(self._reader, scard.SCARD_STATE_UNAWARE)])
            if rc != scard.SCARD_S_SUCCESS or not states[0][1] & scard.SCARD_STATE_PRESENT:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def _transmit_error(self, hr: int) -> CardError:
        err = _error(self._scard, hr, "transmit", self._reader)
        if isinstance(err, ReaderGone) or type(err) is CardError:
            # Tell "card pulled" from "reader gone": ask pcscd whether the reader still exists.
            scard = self._scard
            rc, states = scard.SCardGetStatusChange(self._ctx, 0, [(self._reader, scard.SCARD_STATE_UNAWARE)])
            if rc == scard.SCARD_S_SUCCESS and not states[0][1] & scard.SCARD_STATE_PRESENT:
                return CardRemoved(err.detail)
        return err

    def close(self) -> None:
        """Reset the card (clears verified PINs) and release the PC/SC context."""
        self._release()

    def _release(self) -> None:
        scard = self._scard
        if self._card is not None:
            if self._in_transaction:
                scard.SCardEndTransaction(self._card, scard.SCARD_LEAVE_CARD)
                self._in_transaction = False
            scard.SCardDisconnect(self._card, scard.SCARD_RESET_CARD)
            self._card = None
        if self._ctx is not None:
            scard.SCardReleaseContext(self._ctx)
            self._ctx = None
