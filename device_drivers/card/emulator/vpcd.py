"""Our vpcd client: puts an emulated card into a vsmartcard "Virtual PCD" reader of pcscd.

vpcd listens (default 127.0.0.1:35963 = reader ``Virtual PCD 00 00``); the card connects.
Frames are a 2-byte big-endian length and a payload, both ways. One-byte payloads are control
messages: 00 power off, 01 power on, 02 reset (no reply), 04 get ATR (reply: the ATR).
Anything longer is a command APDU, answered with response data + SW. Connecting inserts the
card, closing the connection removes it.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from typing import Protocol

__all__ = ["DEFAULT_VPCD_PORT", "CardLike", "VpcdLink"]

_logger = logging.getLogger(__name__)

DEFAULT_VPCD_PORT = 35963
_POWER_OFF, _POWER_ON, _RESET, _GET_ATR = 0, 1, 2, 4


class CardLike(Protocol):
    """What the link drives: an `EmulatedCard` or a test wrapper around one."""

    atr: bytes

    def power_off(self) -> None:
        """Power loss."""

    def power_on(self) -> None:
        """Power up."""

    def reset(self) -> None:
        """Warm reset."""

    def process(self, apdu: bytes) -> bytes | None:
        """Answer an APDU; None means the card has just been pulled out."""


def _quickack(sock: socket.socket) -> None:
    # vpcd writes the 2-byte length and the payload separately with Nagle on: ACK at once, or
    # each frame waits for our delayed ACK (~40 ms per APDU). Linux resets the flag after reads.
    if hasattr(socket, "TCP_QUICKACK"):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < size:
        _quickack(sock)
        chunk = sock.recv(size - len(buf))
        if not chunk:
            return None
        buf += chunk
    _quickack(sock)
    return bytes(buf)


class VpcdLink:
    """Insert (`insert`) and remove (`remove`) one card in a vpcd reader, served on a thread."""

    def __init__(self, card: CardLike, host: str = "127.0.0.1", port: int = DEFAULT_VPCD_PORT) -> None:
        self.card = card
        self.host = host
        self.port = port
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._sock_lock = threading.Lock()

    @property
    def inserted(self) -> bool:
        """True while connected to vpcd (the card is in the reader)."""
        return self._connected.is_set()

    def insert(self, wait: float | None = 10.0) -> None:
        """Start serving; with `wait`, block until vpcd accepted the card (TimeoutError if not)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"vpcd-card-{self.port}", daemon=True)
        self._thread.start()
        if wait is not None and not self._connected.wait(wait):
            self.remove()
            raise TimeoutError(f"vpcd at {self.host}:{self.port} did not accept the card within {wait} s")

    def remove(self) -> None:
        """Pull the card out: close the connection and stop serving."""
        self._stop.set()
        with self._sock_lock:
            if self._sock is not None:
                with contextlib.suppress(OSError):
                    self._sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
            except OSError:
                time.sleep(0.1)  # pcscd (vpcd) not listening yet: the card keeps trying
                continue
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._sock_lock:
                self._sock = sock
            _logger.info("card inserted into vpcd %s:%d", self.host, self.port)
            self._connected.set()
            try:
                ejected = self._serve(sock)
            except OSError as exc:
                _logger.info("vpcd connection lost: %s", exc)
                ejected = False
            finally:
                self._connected.clear()
                with self._sock_lock:
                    self._sock = None
                sock.close()
                self.card.power_off()
                _logger.info("card removed from vpcd %s:%d", self.host, self.port)
            if ejected:
                self._stop.set()

    def _serve(self, sock: socket.socket) -> bool:
        """Answer frames until vpcd closes (False) or the card is pulled (True)."""
        while not self._stop.is_set():
            head = _recv_exact(sock, 2)
            if head is None:
                return False
            size = int.from_bytes(head, "big")
            payload = _recv_exact(sock, size) if size else b""
            if payload is None:
                return False
            if len(payload) == 1:
                self._control(sock, payload[0])
                continue
            answer = self.card.process(payload)
            if answer is None:
                return True
            sock.sendall(len(answer).to_bytes(2, "big") + answer)
        return True

    def _control(self, sock: socket.socket, code: int) -> None:
        if code == _POWER_OFF:
            self.card.power_off()
        elif code == _POWER_ON:
            self.card.power_on()
        elif code == _RESET:
            self.card.reset()
        elif code == _GET_ATR:
            sock.sendall(len(self.card.atr).to_bytes(2, "big") + self.card.atr)
        else:
            _logger.debug("vpcd sent unknown control byte %02X", code)
