"""Byte transports to a receipt printer, chosen from the device URL.

``escpos+tcp://host:port`` (raw TCP 9100), ``escpos+serial:///dev/x?baud=N``,
``escpos+usb://vvvv:pppp`` (needs pyusb) and ``emulated://printer?out=DIR&state=FILE``
(the virtual printer in-process). Every read has a short time-out; no answer is `None`.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from typing import Protocol

from device_drivers.printer.errors import PrinterConfigError, PrinterOffline
from device_drivers.printer.escpos_cache import load_escpos
from madoguchi.device_urls import DeviceKind, DeviceUrl, DeviceUrlError, parse_device_url

__all__ = ["SerialTransport", "TcpTransport", "Transport", "open_transport"]

_logger = logging.getLogger(__name__)


class Transport(Protocol):
    """Moves bytes to the printer and reads its replies."""

    def write(self, data: bytes) -> None:
        """Send `data`; raise `PrinterOffline` when the link is gone."""

    def read(self, size: int, timeout: float) -> bytes:
        """Up to `size` bytes, waiting at most `timeout` seconds; b"" when nothing came."""

    def drain(self) -> None:
        """Discard unread input (stale replies, ASB packets)."""

    def close(self) -> None:
        """Release the link."""


class TcpTransport:
    """Raw TCP (port 9100) with short time-outs."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.name = f"{host}:{port}"
        try:
            self._sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as exc:
            raise PrinterOffline(f"cannot connect to printer at {self.name}: {exc}") from exc
        self._sock.settimeout(timeout)

    def write(self, data: bytes) -> None:
        """Send all of `data`."""
        try:
            self._sock.sendall(data)
        except OSError as exc:
            raise PrinterOffline(f"printer at {self.name} went away: {exc}") from exc

    def read(self, size: int, timeout: float) -> bytes:
        """Read up to `size` bytes within `timeout`."""
        deadline = time.monotonic() + timeout
        out = b""
        while len(out) < size:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._sock.settimeout(left)
            try:
                chunk = self._sock.recv(size - len(out))
            except TimeoutError:
                break
            except OSError as exc:
                raise PrinterOffline(f"printer at {self.name} went away: {exc}") from exc
            if not chunk:
                raise PrinterOffline(f"printer at {self.name} closed the connection")
            out += chunk
        return out

    def drain(self) -> None:
        """Discard whatever arrived unasked."""
        self._sock.setblocking(False)
        try:
            while self._sock.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass
        finally:
            self._sock.setblocking(True)

    def close(self) -> None:
        """Close the socket."""
        with contextlib.suppress(OSError):
            self._sock.close()


class SerialTransport:
    """A serial line (pyserial) with read and write time-outs and exclusive access."""

    def __init__(self, path: str, baud: int, timeout: float) -> None:
        import serial  # imported here: only serial printers need it

        self.name = path
        try:
            self._port = serial.Serial(
                path, baud, timeout=timeout, write_timeout=max(timeout, 10.0), exclusive=True
            )
        except (serial.SerialException, OSError) as exc:
            raise PrinterOffline(f"cannot open printer port {path}: {exc}") from exc

    def write(self, data: bytes) -> None:
        """Send all of `data`."""
        import serial

        try:
            self._port.write(data)
            self._port.flush()
        except (serial.SerialException, OSError) as exc:
            raise PrinterOffline(f"printer port {self.name} failed: {exc}") from exc

    def read(self, size: int, timeout: float) -> bytes:
        """Read up to `size` bytes within `timeout`."""
        self._port.timeout = timeout
        return bytes(self._port.read(size))

    def drain(self) -> None:
        """Discard pending input."""
        self._port.reset_input_buffer()

    def close(self) -> None:
        """Close the port."""
        self._port.close()


class UsbTransport:
    """USB printer class device through python-escpos' Usb (pyusb)."""

    def __init__(self, vendor: int, product: int, timeout: float) -> None:
        load_escpos()
        try:
            from escpos.printer import Usb
        except ImportError as exc:  # pragma: no cover - depends on pyusb being installed
            raise PrinterConfigError("USB printers need pyusb: pip install 'python-escpos[usb]'") from exc
        self.name = f"{vendor:04x}:{product:04x}"
        self._usb = Usb(vendor, product, timeout=int(timeout * 1000))
        try:
            self._usb.open()
        except Exception as exc:
            raise PrinterOffline(f"cannot open USB printer {self.name}: {exc}") from exc

    def write(self, data: bytes) -> None:
        """Send all of `data`."""
        try:
            self._usb._raw(data)
        except Exception as exc:
            raise PrinterOffline(f"USB printer {self.name} failed: {exc}") from exc

    def read(self, size: int, timeout: float) -> bytes:
        """Read one reply (the USB read time-out is fixed at open)."""
        try:
            return bytes(self._usb._read())[:size]
        except Exception:
            return b""

    def drain(self) -> None:
        """USB replies are read per request; nothing to drain."""

    def close(self) -> None:
        """Release the device."""
        with contextlib.suppress(Exception):
            self._usb.close()


def open_transport(url: str | DeviceUrl, timeout: float = 2.0) -> Transport:
    """Open the transport named by a receipt printer URL."""
    try:
        parsed = url if isinstance(url, DeviceUrl) else parse_device_url(DeviceKind.RECEIPT_PRINTER, url)
    except DeviceUrlError as exc:
        raise PrinterConfigError(str(exc)) from exc
    if parsed.scheme == "escpos+tcp":
        host, port = parsed.host_port
        return TcpTransport(host, port, timeout)
    if parsed.scheme == "escpos+serial":
        return SerialTransport(parsed.target, parsed.int_param("baud", 115200), timeout)
    if parsed.scheme == "escpos+usb":
        return UsbTransport(*parsed.usb_ids, timeout)
    from device_drivers.printer.emulator.transport import EmulatedTransport

    return EmulatedTransport.from_url(parsed)
