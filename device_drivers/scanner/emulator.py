"""Scanner emulators: on a pty (real bytes through a serial port, for tests and `pty-sim://scanner`) and
in-process (`emulated://scanner`). `scan(text)` is what a resident does by holding a slip under it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from device_drivers.payment.simulator.pty_device import PtyDevice
from device_drivers.scanner.reader import SerialScanner, decode_scan

__all__ = ["EmulatedScanner", "PtyScannerEmulator"]

_logger = logging.getLogger(__name__)


class PtyScannerEmulator:
    """A scanner at the far end of a pty: `scan("MDG1:P26040100427:300")` sends the text and a CR."""

    def __init__(
        self, link_file: Path | None = None, symlink: Path | None = None, suffix: bytes = b"\r"
    ) -> None:
        self.device = PtyDevice(link_file, symlink)
        self.suffix = suffix
        self.reader: SerialScanner | None = None

    @property
    def path(self) -> str:
        """The port a kiosk opens."""
        return str(self.device.symlink) if self.device.symlink is not None else self.device.path

    def open(self) -> str:
        """Create the pty; its slave path."""
        return self.device.open()

    def scan(self, text: str, encoding: str = "utf-8") -> None:
        """Send one scan."""
        self.device.write(text.encode(encoding) + self.suffix)

    def send_raw(self, data: bytes) -> None:
        """Send bytes as they are (line noise, a missing suffix …)."""
        self.device.write(data)

    def attach_reader(self) -> EmulatedPtyScanner:
        """A reader of this pty that owns the emulator (what `pty-sim://scanner` gives the kiosk)."""
        return EmulatedPtyScanner(self)

    def close(self) -> None:
        """Close the pty."""
        self.device.close()


class EmulatedPtyScanner(SerialScanner):
    """`SerialScanner` on the emulator's pty; `scan()` goes through the real serial path."""

    def __init__(self, emulator: PtyScannerEmulator) -> None:
        super().__init__(emulator.path)
        self.emulator = emulator

    def scan(self, text: str) -> None:
        """Hold a slip under the emulated scanner."""
        self.emulator.scan(text)

    def stop(self) -> None:
        """Stop reading and close the emulator's pty."""
        super().stop()
        self.emulator.close()


class EmulatedScanner:
    """In-process scanner: `scan(text)` delivers at once (same checks as a serial scan)."""

    def __init__(self) -> None:
        self._on_scan: Callable[[str], None] | None = None
        self._lock = threading.Lock()

    @property
    def online(self) -> bool:
        """Always connected."""
        return True

    def start(self, on_scan: Callable[[str], None]) -> None:
        """Deliver scans to `on_scan`."""
        self._on_scan = on_scan

    def stop(self) -> None:
        """Deliver no more."""
        self._on_scan = None

    def scan(self, text: str) -> None:
        """Hold a slip under it."""
        with self._lock:
            if self._on_scan is not None:
                self._on_scan(decode_scan(text.encode("utf-8")))
