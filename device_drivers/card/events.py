"""Card and reader events, delivered as frozen `CardEvent`s into a queue (or a callback).

One monitor thread watches pcscd with SCardGetStatusChange (plus the PnP pseudo-reader for
reader arrival) and diffs snapshots, so it reports a card that was already inserted at start
and never depends on pyscard's CardMonitor singleton. The thread only puts events into the
sink: it never touches app state. When pcscd restarts or a reader vanishes, the watchdog part
of the loop releases the context, reports the loss, and re-establishes it with back-off.
"""

from __future__ import annotations

import enum
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from device_drivers.card.pcsc import scard_module

__all__ = ["CardEvent", "CardEventKind", "CardEventMonitor"]

_logger = logging.getLogger(__name__)

PNP_READER = "\\\\?PnP?\\Notification"


class CardEventKind(enum.StrEnum):
    """What happened."""

    READER_ADDED = "reader_added"
    READER_REMOVED = "reader_removed"
    CARD_INSERTED = "card_inserted"
    CARD_REMOVED = "card_removed"
    SERVICE_LOST = "service_lost"
    SERVICE_RESTORED = "service_restored"


@dataclass(frozen=True)
class CardEvent:
    """One change, for the app to handle on its own thread."""

    kind: CardEventKind
    reader: str = ""
    atr: bytes = b""


Snapshot = dict[str, tuple[bool, bytes]]


class CardEventMonitor:
    """Watch readers (all, or those whose name contains `reader_filter`) and emit events."""

    def __init__(
        self,
        sink: queue.Queue[CardEvent] | Callable[[CardEvent], None],
        *,
        reader_filter: str | None = None,
        poll_ms: int = 500,
        retry_seconds: float = 0.5,
    ) -> None:
        self._put: Callable[[CardEvent], None] = sink.put if isinstance(sink, queue.Queue) else sink
        self._filter = reader_filter.lower() if reader_filter else None
        self._poll_ms = poll_ms
        self._retry = retry_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ctx: Any = None
        self._ctx_lock = threading.Lock()
        self.rebuilds = 0

    def start(self) -> None:
        """Start the monitor thread (explicitly: nothing runs at import or construction)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="card-events", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread and release the PC/SC context."""
        self._stop.set()
        with self._ctx_lock:
            if self._ctx is not None:
                scard_module().SCardCancel(self._ctx)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _emit(self, kind: CardEventKind, reader: str = "", atr: bytes = b"") -> None:
        _logger.info("card event %s %s", kind.value, reader)
        self._put(CardEvent(kind, reader, atr))

    def _run(self) -> None:
        scard = scard_module()
        known: Snapshot = {}
        lost = False
        while not self._stop.is_set():
            hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if hr != scard.SCARD_S_SUCCESS:
                if not lost:
                    lost = True
                    self._lose_all(known)
                self._stop.wait(self._retry)
                continue
            with self._ctx_lock:
                self._ctx = ctx
            if lost:
                lost = False
                self.rebuilds += 1
                self._emit(CardEventKind.SERVICE_RESTORED)
            try:
                self._watch(scard, ctx, known)
            finally:
                with self._ctx_lock:
                    self._ctx = None
                scard.SCardReleaseContext(ctx)
            if not self._stop.is_set():
                # pcscd went away or the context broke: report and rebuild.
                lost = True
                self._lose_all(known)
                self._stop.wait(self._retry)

    def _lose_all(self, known: Snapshot) -> None:
        for reader, (present, _atr) in sorted(known.items()):
            if present:
                self._emit(CardEventKind.CARD_REMOVED, reader)
            self._emit(CardEventKind.READER_REMOVED, reader)
        known.clear()
        self._emit(CardEventKind.SERVICE_LOST)

    def _snapshot(self, scard: Any, ctx: Any) -> Snapshot | None:
        hr, names = scard.SCardListReaders(ctx, [])
        if hr & 0xFFFFFFFF == scard.SCARD_E_NO_READERS_AVAILABLE & 0xFFFFFFFF:
            return {}
        if hr != scard.SCARD_S_SUCCESS:
            return None
        names = [n for n in names if self._filter is None or self._filter in n.lower()]
        if not names:
            return {}
        hr, states = scard.SCardGetStatusChange(ctx, 0, [(n, scard.SCARD_STATE_UNAWARE) for n in names])
        if hr != scard.SCARD_S_SUCCESS:
            return None
        return {
            name: (bool(state & scard.SCARD_STATE_PRESENT) and not state & scard.SCARD_STATE_MUTE, bytes(atr))
            for name, state, atr in states
            if not state & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE)
        }

    def _diff(self, known: Snapshot, now: Snapshot) -> None:
        for reader in sorted(known.keys() - now.keys()):
            if known[reader][0]:
                self._emit(CardEventKind.CARD_REMOVED, reader)
            self._emit(CardEventKind.READER_REMOVED, reader)
        for reader in sorted(now.keys() - known.keys()):
            self._emit(CardEventKind.READER_ADDED, reader)
        for reader, (present, atr) in sorted(now.items()):
            before = known.get(reader, (False, b""))
            if present and (not before[0] or before[1] != atr):
                if before[0]:
                    self._emit(CardEventKind.CARD_REMOVED, reader)
                self._emit(CardEventKind.CARD_INSERTED, reader, atr)
            elif before[0] and not present:
                self._emit(CardEventKind.CARD_REMOVED, reader)
        known.clear()
        known.update(now)

    def _watch(self, scard: Any, ctx: Any, known: Snapshot) -> None:
        """Loop until stop or a PC/SC failure (returns so that the caller rebuilds)."""
        timeout_codes = {scard.SCARD_E_TIMEOUT & 0xFFFFFFFF, scard.SCARD_E_CANCELLED & 0xFFFFFFFF}
        while not self._stop.is_set():
            now = self._snapshot(scard, ctx)
            if now is None:
                return
            self._diff(known, now)
            watch = [(n, scard.SCARD_STATE_UNAWARE) for n in now]
            hr, states = scard.SCardGetStatusChange(ctx, 0, watch) if watch else (scard.SCARD_S_SUCCESS, [])
            if hr != scard.SCARD_S_SUCCESS:
                return
            current = [(n, s & ~scard.SCARD_STATE_CHANGED) for n, s, _ in states]
            current.append((PNP_READER, len(now) << 16))
            started = time.monotonic()
            hr, _ = scard.SCardGetStatusChange(ctx, self._poll_ms, current)
            code = hr & 0xFFFFFFFF
            if hr != scard.SCARD_S_SUCCESS and code not in timeout_codes:
                _logger.info("card monitor: pcscd error 0x%08X, rebuilding", code)
                return
            if hr == scard.SCARD_S_SUCCESS and time.monotonic() - started < 0.01:
                self._stop.wait(0.05)  # a state flag we do not track changed: do not spin
