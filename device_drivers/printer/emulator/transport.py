"""In-process transport to a virtual printer (``emulated://printer?out=DIR&state=FILE&width=576&model=ZJ-5870``).

``model`` (optional) names a python-escpos model whose capabilities the printer takes (native QR
and barcodes, autocutter); without it the printer has them all.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from device_drivers.printer.emulator.capabilities import Capabilities
from device_drivers.printer.emulator.machine import VirtualPrinterCore
from device_drivers.printer.errors import PrinterOffline
from madoguchi.device_urls import DeviceUrl

__all__ = ["EmulatedTransport"]


class EmulatedTransport:
    """Bytes go straight into a `VirtualPrinterCore`; replies are buffered for `read()`."""

    def __init__(self, core: VirtualPrinterCore) -> None:
        self.core = core
        self.name = "emulated"
        self._replies = bytearray()
        self._closed = False

    @classmethod
    def from_url(cls, url: DeviceUrl) -> EmulatedTransport:
        """A fresh virtual printer writing to `out` (a temporary directory when absent)."""
        out = Path(url.params.get("out") or tempfile.mkdtemp(prefix="virtual-printer-"))
        state = url.params.get("state")
        model = url.params.get("model")
        capabilities = Capabilities.of_escpos_model(model) if model else None
        return cls(
            VirtualPrinterCore(out, Path(state) if state else None, url.int_param("width", 576), capabilities)
        )

    def write(self, data: bytes) -> None:
        """Feed `data` to the virtual printer."""
        if self._closed:
            raise PrinterOffline("emulated printer link is closed")
        self._replies += self.core.receive(data)

    def read(self, size: int, timeout: float) -> bytes:
        """Buffered replies; waits up to `timeout` for held data to be printed."""
        deadline = time.monotonic() + timeout
        while not self._replies and time.monotonic() < deadline:
            time.sleep(0.01)
            self._replies += self.core.poke()
        out = bytes(self._replies[:size])
        del self._replies[:size]
        return out

    def drain(self) -> None:
        """Drop unread replies."""
        self._replies.clear()

    def close(self) -> None:
        """Mark the link closed and end any open job."""
        self._closed = True
        self.core.flush()
