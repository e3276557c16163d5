"""Where the resident's card is: a PC/SC reader watched by pcscd, or the emulator's slot in simulation.

A slot reports insertion and removal as flow events (`CardInserted`, `CardRemoved`) through the
runner's `post`, from its own thread, and opens a `CardSession` on the card that is in it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from device_drivers.card.emulator.transport import EmulatorBank
from device_drivers.card.events import CardEvent, CardEventKind, CardEventMonitor
from device_drivers.card.session import CardSession, open_card
from device_drivers.errors import DeviceUnavailable
from kiosk_app.flows import events as ev
from kiosk_app.flows.core import Event

__all__ = ["CardSlot", "EmulatedCardSlot", "NoCardInSlot", "PcscCardSlot"]

_logger = logging.getLogger(__name__)


class NoCardInSlot(DeviceUnavailable):
    """The emulated slot is empty."""

    def __init__(self) -> None:
        super().__init__("no card in the simulated reader", code="card.no_card")


class CardSlot(Protocol):
    """A card reader as the runner sees it."""

    def start(self, post: Callable[[Event], None]) -> None:
        """Begin reporting insertion and removal to `post`."""

    def stop(self) -> None:
        """Stop reporting."""

    def open(self) -> CardSession:
        """A session on the card now in the reader (raises a `CardError` or `DeviceUnavailable`)."""


class PcscCardSlot:
    """A PC/SC reader: `pcsc://<reader name or a unique part of it>`."""

    def __init__(self, url: str, reader_filter: str | None) -> None:
        self.url = url
        self._filter = reader_filter
        self._monitor: CardEventMonitor | None = None
        self._post: Callable[[Event], None] | None = None

    def start(self, post: Callable[[Event], None]) -> None:
        """Watch pcscd; a card already in the reader is reported at once."""
        self._post = post
        self._monitor = CardEventMonitor(self._on_event, reader_filter=self._filter, poll_ms=250)
        self._monitor.start()

    def _on_event(self, event: CardEvent) -> None:
        assert self._post is not None
        if event.kind is CardEventKind.CARD_INSERTED:
            self._post(ev.CardInserted())
        elif event.kind is CardEventKind.CARD_REMOVED:
            self._post(ev.CardRemoved())

    def stop(self) -> None:
        """Stop the monitor thread."""
        if self._monitor is not None:
            self._monitor.stop()
            self._monitor = None

    def open(self) -> CardSession:
        """Connect to the card in the reader."""
        return open_card(self.url)


class EmulatedCardSlot:
    """The simulated reader of `kiosk run --simulate`: a person (or the autopilot) puts a persona's card in.

    `insert(persona)` and `remove()` are what the resident's hands do; the emulator's cards keep their
    PIN counters for the whole run (one card per persona).
    """

    def __init__(self, persona: str = "valid-adult", bank: EmulatorBank | None = None) -> None:
        self.persona = persona
        self.bank = bank or EmulatorBank()
        self.inserted = False
        self._post: Callable[[Event], None] | None = None
        self._lock = threading.Lock()

    def start(self, post: Callable[[Event], None]) -> None:
        """Report to `post` from now on."""
        self._post = post

    def stop(self) -> None:
        """Nothing runs in the background."""
        self._post = None

    def insert(self, persona: str | None = None) -> None:
        """Put the card of `persona` (default: the slot's persona) into the reader."""
        with self._lock:
            if persona:
                self.persona = persona
            self.inserted = True
        if self._post is not None:
            self._post(ev.CardInserted())

    def remove(self) -> None:
        """Take the card out."""
        with self._lock:
            was_in = self.inserted
            self.inserted = False
        if was_in and self._post is not None:
            self._post(ev.CardRemoved())

    def open(self) -> CardSession:
        """A session on the persona's emulated card."""
        with self._lock:
            if not self.inserted:
                raise NoCardInSlot()
            persona = self.persona
        return open_card(f"emulated://card?persona={persona}", bank=self.bank)
