"""Serial transport to the terminal, chosen from the device URL.

`serial:///dev/serial/by-id/...?baud=9600&parity=N&bytesize=8&stopbits=1` opens the port with
`exclusive=True` (advisory flock: a second opener gets EAGAIN) and a write time-out, so a stuck
line raises instead of blocking forever. `pty-sim://payment?script=approve&ledger=FILE` starts the
simulator on a pty pair in this process and connects to it over real bytes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

import serial

from device_drivers.payment.codec import LineSettings
from device_drivers.payment.errors import LinkLost, TerminalUnavailable
from device_drivers.payment.link import Transport
from madoguchi.device_urls import DeviceKind, DeviceUrlError, parse_device_url

__all__ = ["SerialPortSource", "SerialTransport", "port_from_url"]

_logger = logging.getLogger(__name__)
_PARITIES = {"N": serial.PARITY_NONE, "E": serial.PARITY_EVEN, "O": serial.PARITY_ODD}


class SerialTransport:
    """An open pyserial port; every pyserial/OS error becomes `LinkLost`."""

    def __init__(self, port: serial.Serial) -> None:
        self._port = port

    def read(self, max_bytes: int) -> bytes:
        """Whatever is waiting (at least one poll of `timeout`)."""
        try:
            waiting = self._port.in_waiting
            data: bytes = self._port.read(min(max_bytes, waiting) if waiting else 1)
        except (serial.SerialException, OSError) as exc:
            raise LinkLost(f"payment line lost while reading: {exc}") from exc
        return data

    def write(self, data: bytes) -> None:
        """Write all bytes or raise `LinkLost` (including on the write time-out)."""
        try:
            written = self._port.write(data)
            if written is not None and written != len(data):
                raise LinkLost(f"short write to the payment line ({written} of {len(data)} bytes)")
        except serial.SerialTimeoutException as exc:
            raise LinkLost("write to the payment line timed out") from exc
        except (serial.SerialException, OSError) as exc:
            raise LinkLost(f"payment line lost while writing: {exc}") from exc

    def close(self) -> None:
        """Close the port."""
        self._port.close()


@dataclass(frozen=True)
class SerialPortSource:
    """Opens the terminal's port by its stable path (reopened by the same path after a loss)."""

    path: str
    line: LineSettings = field(default_factory=LineSettings)
    poll: float = 0.01
    write_timeout: float = 2.0

    @property
    def description(self) -> str:
        """For logs and diagnostics: path and line settings."""
        return f"{self.path} {self.line.baudrate} {self.line.bytesize}{self.line.parity}{self.line.stopbits}"

    def open(self) -> Transport:
        """Open exclusively; EAGAIN (another process holds it) and missing paths are clear errors."""
        try:
            port = serial.Serial(
                self.path,
                baudrate=self.line.baudrate,
                bytesize=self.line.bytesize,
                parity=_PARITIES.get(self.line.parity, serial.PARITY_NONE),
                stopbits=self.line.stopbits,
                timeout=self.poll,
                write_timeout=self.write_timeout,
                xonxoff=False,
                rtscts=False,
                dsrdtr=False,
                exclusive=True,
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            raise TerminalUnavailable(
                f"cannot open the payment terminal at {self.path}: {exc} "
                "(check the cable and that no other program uses the port)"
            ) from exc
        return SerialTransport(port)

    def close(self) -> None:
        """Nothing owned."""


def line_from_params(params: dict[str, str]) -> LineSettings:
    """Line settings from URL query parameters (baud, bytesize, parity, stopbits)."""
    line = LineSettings()
    try:
        if "baud" in params:
            line = replace(line, baudrate=int(params["baud"]))
        if "bytesize" in params:
            line = replace(line, bytesize=int(params["bytesize"]))
        if "stopbits" in params:
            line = replace(line, stopbits=int(params["stopbits"]))
    except ValueError as exc:
        raise DeviceUrlError(
            f"line settings must be numbers, e.g. ?baud=9600&bytesize=8&stopbits=1 ({exc})"
        ) from exc
    parity = params.get("parity", "N").upper()
    if parity not in _PARITIES:
        raise DeviceUrlError(f"parity {parity!r} is not N, E or O")
    return replace(line, parity=parity)


def port_from_url(url: str, poll: float = 0.01) -> SerialPortSource:
    """The port source for a payment device URL (starting the simulator for `pty-sim://`).

    Raises:
        DeviceUrlError: the URL is malformed or not a payment URL.
    """
    parsed = parse_device_url(DeviceKind.PAYMENT, url)
    if parsed.scheme == "serial":
        return SerialPortSource(parsed.target, line_from_params(parsed.params), poll=poll)
    from device_drivers.payment.simulator.runner import SimulatedPortSource, start_simulator

    ledger = parsed.params.get("ledger")
    sim = start_simulator(
        behaviour=parsed.params.get("script", "approve"),
        ledger_path=Path(ledger) if ledger else None,
    )
    _logger.info("payment simulator started on %s (%s)", sim.path, sim.behaviour)
    return SimulatedPortSource(sim.path, LineSettings(), poll=poll, simulator=sim)
