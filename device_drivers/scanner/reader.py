"""Reading a serial scanner: codes arrive as text lines ended by CR, LF or CR LF (the usual suffix).

`SerialScanner` opens the port in its own thread, splits lines, decodes UTF-8 (falling back to
Shift_JIS, which Japanese scanners send for kanji), drops control characters and anything longer than
`MAX_CODE_CHARS`, and hands each code to `on_scan`. When the port goes away it reports the scanner
offline and reopens it with back-off, so an unplugged scanner never stops the kiosk.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

import serial

from device_drivers.scanner.errors import ScanRejected
from madoguchi.device_urls import DeviceKind, parse_device_url

__all__ = ["MAX_CODE_CHARS", "Scanner", "SerialScanner", "decode_scan", "open_scanner"]

_logger = logging.getLogger(__name__)

MAX_CODE_CHARS = 512
_SUFFIXES = (b"\r", b"\n")


class Scanner(Protocol):
    """What the kiosk needs from a scanner."""

    @property
    def online(self) -> bool:
        """True while the scanner is connected."""

    def start(self, on_scan: Callable[[str], None]) -> None:
        """Deliver each scanned code to `on_scan` (from the scanner's thread)."""

    def stop(self) -> None:
        """Stop reading."""


def decode_scan(raw: bytes) -> str:
    """The text of one scan line.

    Raises:
        ScanRejected: empty, too long, undecodable, or holding control characters.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = raw.decode("shift_jis")
        except UnicodeDecodeError:
            raise ScanRejected("the scan is neither UTF-8 nor Shift_JIS text") from None
    text = text.strip()
    if not text:
        raise ScanRejected("empty scan")
    if len(text) > MAX_CODE_CHARS:
        raise ScanRejected(f"scan of {len(text)} characters (at most {MAX_CODE_CHARS})")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise ScanRejected("the scan holds control characters")
    return text


class SerialScanner:
    """A scanner on a serial port (USB-COM or RS-232), read line by line."""

    def __init__(self, path: str, baud: int = 9600, retry_s: float = 1.0) -> None:
        self.path = path
        self.baud = baud
        self.retry_s = retry_s
        self.scans = 0
        self.rejected = 0
        self._online = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def online(self) -> bool:
        """True while the port is open."""
        return self._online

    def start(self, on_scan: Callable[[str], None]) -> None:
        """Start the reading thread."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, args=(on_scan,), name="scanner", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread and close the port."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _run(self, on_scan: Callable[[str], None]) -> None:
        while not self._stop.is_set():
            try:
                port = serial.Serial(self.path, self.baud, timeout=0.2)
            except (OSError, serial.SerialException) as exc:
                if self._online or self.scans == 0:
                    _logger.warning("scanner %s unavailable: %s; retrying", self.path, exc)
                self._online = False
                self._stop.wait(self.retry_s)
                continue
            self._online = True
            _logger.info("scanner on %s", self.path)
            try:
                self._read(port, on_scan)
            except (OSError, serial.SerialException) as exc:
                _logger.warning("scanner %s lost: %s", self.path, exc)
            finally:
                self._online = False
                port.close()

    def _read(self, port: serial.Serial, on_scan: Callable[[str], None]) -> None:
        buffer = b""
        while not self._stop.is_set():
            chunk = port.read(256)
            if not chunk:
                continue
            buffer += chunk
            while True:
                cut = min((i for i in (buffer.find(s) for s in _SUFFIXES) if i >= 0), default=-1)
                if cut < 0:
                    break
                line, buffer = buffer[:cut], buffer[cut + 1 :]
                if line:
                    self._deliver(line, on_scan)
            if len(buffer) > MAX_CODE_CHARS * 4:
                _logger.warning("scanner sent %d bytes without a line end; dropped", len(buffer))
                self.rejected += 1
                buffer = b""

    def _deliver(self, line: bytes, on_scan: Callable[[str], None]) -> None:
        try:
            text = decode_scan(line)
        except ScanRejected as exc:
            self.rejected += 1
            _logger.warning("scan rejected: %s", exc.detail)
            return
        self.scans += 1
        on_scan(text)


def open_scanner(url: str) -> Scanner:
    """The scanner of a device URL (the `pty-sim://` emulator is started here)."""
    from device_drivers.scanner.emulator import EmulatedScanner, PtyScannerEmulator

    parsed = parse_device_url(DeviceKind.SCANNER, url)
    if parsed.scheme == "serial":
        return SerialScanner(parsed.target, int(parsed.params.get("baud", "9600")))
    if parsed.scheme == "pty-sim":
        emulator = PtyScannerEmulator()
        emulator.open()
        return emulator.attach_reader()
    return EmulatedScanner()
