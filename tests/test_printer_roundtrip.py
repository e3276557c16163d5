"""Virtual printer round trip: what the driver sends over TCP is decoded and rendered back to the same image."""

from __future__ import annotations

import json

import pytest
import zxingcpp
from PIL import Image, ImageChops

from device_drivers.printer import ReceiptPrinter, encode_kanji, encode_raster, profile_for
from device_drivers.printer.preview import preview_image
from device_drivers.printer.samples import SAMPLE_KINDS, sample_document
from tests.fixtures.printing import VirtualPrinter


@pytest.mark.parametrize("kind", SAMPLE_KINDS)
def test_raster_slip_round_trips_pixel_for_pixel(virtual_printer: VirtualPrinter, kind: str) -> None:
    """GIVEN a slip WHEN printed on the virtual printer THEN its PNG equals the driver's own rendering."""
    profile = profile_for("tm-t20ii")
    doc = sample_document(kind, "ja")
    printer = ReceiptPrinter(virtual_printer.url, timeout=0.5)
    result = printer.print_job(encode_raster(doc, profile), f"{kind}-1")
    printer.close()
    assert result.outcome.value == "printed"
    (png,) = virtual_printer.job_files()
    printed = Image.open(png)
    expected = preview_image(doc, profile)
    assert printed.size == expected.size
    assert ImageChops.difference(printed.convert("L"), expected.convert("L")).getbbox() is None


def test_ticket_qr_on_paper_scans_to_the_status_url(virtual_printer: VirtualPrinter) -> None:
    """GIVEN a queue ticket WHEN printed THEN the QR on the rendered paper decodes to the status URL."""
    printer = ReceiptPrinter(virtual_printer.url, timeout=0.5)
    printer.print_job(encode_raster(sample_document("ticket", "en"), profile_for(None)), "t-1")
    printer.close()
    (png,) = virtual_printer.job_files()
    summary = json.loads(png.with_suffix(".json").read_text(encoding="utf-8"))
    assert summary["qr"] == ["https://q.madoguchi.example/t/7Q2XK9"]
    assert summary["cut"] is True
    paper = Image.open(png).convert("L")
    framed = Image.new("L", (paper.width + 80, paper.height + 80), 255)
    framed.paste(paper, (40, 40))
    assert [r.text for r in zxingcpp.read_barcodes(framed) if r.format == zxingcpp.BarcodeFormat.QRCode] == [
        "https://q.madoguchi.example/t/7Q2XK9"
    ]


def test_kanji_mode_ticket_is_decoded_as_shift_jis_text(virtual_printer: VirtualPrinter) -> None:
    """GIVEN a kanji-ROM profile WHEN a ticket prints THEN the printer saw kanji mode and the Japanese lines."""
    printer = ReceiptPrinter(virtual_printer.url, timeout=0.5)
    printer.print_job(encode_kanji(sample_document("ticket", "ja"), profile_for("tm-t20ii-j")), "t-2")
    printer.close()
    (png,) = virtual_printer.job_files()
    summary = json.loads(png.with_suffix(".json").read_text(encoding="utf-8"))
    assert summary["kanji_mode"] is True
    assert "受付番号" in summary["text_lines"]
    assert "A-123" in summary["text_lines"]
    assert summary["raster_rows"] == 0


def test_slip_barcode_is_decoded_with_its_order_code(virtual_printer: VirtualPrinter) -> None:
    """GIVEN a payment slip WHEN printed THEN the barcode on paper scans to the order code."""
    printer = ReceiptPrinter(virtual_printer.url, timeout=0.5)
    printer.print_job(encode_raster(sample_document("slip", "ja"), profile_for(None)), "s-1")
    printer.close()
    (png,) = virtual_printer.job_files()
    paper = Image.open(png).convert("L")
    framed = Image.new("L", (paper.width + 80, paper.height + 80), 255)
    framed.paste(paper, (40, 40))
    found = {(r.format, r.text) for r in zxingcpp.read_barcodes(framed)}
    assert (zxingcpp.BarcodeFormat.Code128, "P2604010042") in found
    assert (zxingcpp.BarcodeFormat.QRCode, "P2604010042") in found


def test_data_held_while_cover_open_prints_after_it_closes(virtual_printer: VirtualPrinter) -> None:
    """GIVEN raw job bytes sent while the cover is open WHEN it closes THEN the job is printed (held, not lost)."""
    import socket

    job = encode_raster(sample_document("guide", "en"), profile_for(None))
    virtual_printer.set_state(cover="open")
    with socket.create_connection(("127.0.0.1", virtual_printer.server.port), timeout=2) as sock:
        sock.sendall(job.data)
        sock.sendall(b"\x10\x04\x02")
        assert sock.recv(1) == b"\x16"  # cover open, answered in real time
        assert virtual_printer.job_files() == []
        virtual_printer.set_state()
        sock.sendall(b"\x1d\x72\x01")
        sock.settimeout(3)
        assert sock.recv(1) == b"\x00"  # processed in order: the job before it is done
    assert len(virtual_printer.job_files()) == 1
