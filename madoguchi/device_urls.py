"""Device URLs: which implementation drives which device, chosen by URL scheme (pyserial style).

Examples::

    pcsc://Virtual PCD 00 00                 card reader by PC/SC reader name
    emulated://card?persona=valid-adult      in-process card emulator
    escpos+tcp://127.0.0.1:9100              ESC/POS printer on TCP 9100
    escpos+usb://04b8:0202                   ESC/POS printer on USB vendor:product
    escpos+serial:///dev/kiosk/printer?baud=38400
    cups://Kiosk_A4                          A4 printer queue in CUPS
    serial:///dev/kiosk/payment?baud=9600    payment terminal or scanner on a serial line
    pty-sim://payment                        simulator started on a pty by the kiosk itself
    emulated://printer                       virtual printer in-process

Parsing only checks form; opening the device is the driver's job. The table of allowed
schemes per device kind is data, not an import-time registry.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["ALLOWED_SCHEMES", "DeviceKind", "DeviceUrl", "DeviceUrlError", "parse_device_url"]


class DeviceKind(enum.StrEnum):
    """The device slots a kiosk has."""

    CARD_READER = "card_reader"
    RECEIPT_PRINTER = "receipt_printer"
    A4_PRINTER = "a4_printer"
    PAYMENT = "payment"
    SCANNER = "scanner"


ALLOWED_SCHEMES: dict[DeviceKind, tuple[str, ...]] = {
    DeviceKind.CARD_READER: ("pcsc", "emulated"),
    DeviceKind.RECEIPT_PRINTER: ("escpos+tcp", "escpos+usb", "escpos+serial", "emulated"),
    DeviceKind.A4_PRINTER: ("cups", "emulated"),
    DeviceKind.PAYMENT: ("serial", "pty-sim", "emulated"),
    DeviceKind.SCANNER: ("serial", "pty-sim", "emulated"),
}

EXAMPLES: dict[DeviceKind, str] = {
    DeviceKind.CARD_READER: "pcsc://Virtual PCD 00 00 or emulated://card?persona=valid-adult",
    DeviceKind.RECEIPT_PRINTER: "escpos+tcp://127.0.0.1:9100 or escpos+usb://04b8:0202",
    DeviceKind.A4_PRINTER: "cups://Kiosk_A4",
    DeviceKind.PAYMENT: "serial:///dev/kiosk/payment?baud=9600 or pty-sim://payment",
    DeviceKind.SCANNER: "serial:///dev/kiosk/scanner?baud=9600 or pty-sim://scanner",
}

_HEX4 = re.compile(r"^[0-9a-fA-F]{4}$")


class DeviceUrlError(ValueError):
    """A device URL that cannot be used; the message says what is wrong and gives an example."""


@dataclass(frozen=True)
class DeviceUrl:
    """A parsed device URL.

    Attributes:
        kind: the device slot it was parsed for.
        scheme: the URL scheme, which picks the implementation.
        target: reader name, host:port, vendor:product, device path, queue name or emulator name.
        params: query parameters, e.g. ``{"baud": "9600"}``.
        raw: the URL as written.
    """

    kind: DeviceKind
    scheme: str
    target: str
    params: dict[str, str] = field(default_factory=dict)
    raw: str = ""

    @property
    def host_port(self) -> tuple[str, int]:
        """For TCP URLs: host and port (port 9100 when absent)."""
        host, _, port = self.target.rpartition(":")
        if not host:
            return self.target, 9100
        return host, int(port)

    @property
    def usb_ids(self) -> tuple[int, int]:
        """For USB URLs: vendor and product id."""
        vendor, product = self.target.split(":")
        return int(vendor, 16), int(product, 16)

    def int_param(self, name: str, default: int) -> int:
        """An integer query parameter, or `default` when absent."""
        value = self.params.get(name)
        return default if value is None else int(value)


def parse_device_url(kind: DeviceKind, url: str) -> DeviceUrl:
    """Parse `url` for the device slot `kind`.

    Raises:
        DeviceUrlError: the scheme does not fit the slot or the URL is malformed.
    """
    allowed = ALLOWED_SCHEMES[kind]
    scheme, sep, _rest = url.partition("://")
    if not sep or not scheme:
        raise DeviceUrlError(
            f"{url!r} is not a device URL; write it as scheme://target, e.g. {EXAMPLES[kind]}"
        )
    scheme = scheme.lower()
    if scheme not in allowed:
        raise DeviceUrlError(
            f"scheme {scheme!r} cannot drive a {kind.value}; use one of {', '.join(allowed)} "
            f"(e.g. {EXAMPLES[kind]})"
        )
    if scheme == "pcsc":
        # Reader names contain spaces and are not URL authorities: take the text as written.
        target = unquote(url.split("://", 1)[1])
        params: dict[str, str] = {}
    else:
        parts = urlsplit(url)
        target = unquote(parts.netloc + parts.path)
        try:
            params = dict(parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query)))
        except ValueError as exc:
            raise DeviceUrlError(
                f"{url!r} has a malformed query ({exc}); write ?name=value&name=value"
            ) from exc
    if not target:
        raise DeviceUrlError(f"{url!r} names no device; e.g. {EXAMPLES[kind]}")
    parsed = DeviceUrl(kind=kind, scheme=scheme, target=target, params=params, raw=url)
    _check_target(parsed)
    return parsed


def _check_target(url: DeviceUrl) -> None:
    if url.scheme == "escpos+usb":
        ids = url.target.split(":")
        if len(ids) != 2 or not all(_HEX4.match(i) for i in ids):
            raise DeviceUrlError(
                f"{url.raw!r}: USB printers are named vendor:product in hex, e.g. escpos+usb://04b8:0202"
            )
    elif url.scheme == "escpos+tcp":
        host, _, port = url.target.rpartition(":")
        if host and not (port.isdigit() and 0 < int(port) < 65536):
            raise DeviceUrlError(f"{url.raw!r}: port {port!r} is not a TCP port number (1-65535)")
    elif url.scheme in ("serial", "escpos+serial"):
        if not url.target.startswith("/"):
            raise DeviceUrlError(
                f"{url.raw!r}: serial devices are named by absolute path, e.g. serial:///dev/kiosk/payment"
            )
        baud = url.params.get("baud")
        if baud is not None and not baud.isdigit():
            raise DeviceUrlError(f"{url.raw!r}: baud {baud!r} is not a number, e.g. ?baud=9600")
    elif url.scheme == "emulated" and "/" in url.target.strip("/"):
        raise DeviceUrlError(
            f"{url.raw!r}: an emulator is named by one word, e.g. emulated://card?persona=..."
        )
