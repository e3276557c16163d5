"""Device URLs choose the implementation for each device slot; bad ones say what to write instead."""

from __future__ import annotations

import pytest

from madoguchi.device_urls import DeviceKind, DeviceUrlError, parse_device_url


def test_reader_names_with_spaces_are_taken_as_written() -> None:
    url = parse_device_url(DeviceKind.CARD_READER, "pcsc://Virtual PCD 00 00")
    assert (url.scheme, url.target) == ("pcsc", "Virtual PCD 00 00")


def test_emulated_card_carries_its_persona() -> None:
    url = parse_device_url(DeviceKind.CARD_READER, "emulated://card?persona=valid-adult")
    assert (url.scheme, url.target, url.params) == ("emulated", "card", {"persona": "valid-adult"})


def test_serial_url_gives_path_and_baud() -> None:
    url = parse_device_url(DeviceKind.PAYMENT, "serial:///dev/kiosk/payment?baud=9600")
    assert url.target == "/dev/kiosk/payment"
    assert url.int_param("baud", 115200) == 9600
    assert parse_device_url(DeviceKind.PAYMENT, "serial:///dev/ttyUSB0").int_param("baud", 9600) == 9600


def test_tcp_and_usb_printers() -> None:
    assert parse_device_url(DeviceKind.RECEIPT_PRINTER, "escpos+tcp://127.0.0.1:9100").host_port == (
        "127.0.0.1",
        9100,
    )
    assert parse_device_url(DeviceKind.RECEIPT_PRINTER, "escpos+tcp://printer.local").host_port == (
        "printer.local",
        9100,
    )
    assert parse_device_url(DeviceKind.RECEIPT_PRINTER, "escpos+usb://04b8:0202").usb_ids == (0x04B8, 0x0202)
    assert parse_device_url(DeviceKind.A4_PRINTER, "cups://Kiosk_A4").target == "Kiosk_A4"
    assert parse_device_url(DeviceKind.PAYMENT, "pty-sim://payment").target == "payment"


@pytest.mark.parametrize(
    ("kind", "url", "says"),
    [
        (DeviceKind.PAYMENT, "escpos+tcp://127.0.0.1:9100", "cannot drive a payment"),
        (DeviceKind.CARD_READER, "Virtual PCD 00 00", "not a device URL"),
        (DeviceKind.RECEIPT_PRINTER, "escpos+usb://epson", "vendor:product in hex"),
        (DeviceKind.RECEIPT_PRINTER, "escpos+tcp://10.0.0.5:99999", "not a TCP port"),
        (DeviceKind.PAYMENT, "serial://ttyUSB0", "absolute path"),
        (DeviceKind.PAYMENT, "serial:///dev/ttyUSB0?baud=fast", "not a number"),
        (DeviceKind.A4_PRINTER, "cups://", "names no device"),
    ],
)
def test_bad_urls_say_what_is_wrong_and_show_an_example(kind: DeviceKind, url: str, says: str) -> None:
    with pytest.raises(DeviceUrlError, match=says):
        parse_device_url(kind, url)
