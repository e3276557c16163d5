"""Every printer profile through the real boundary: ESC/POS over TCP to a virtual printer of that model.

The virtual printer takes the model's dot width and, from python-escpos' capability database
(not from our profile table), whether it has native QR and barcode commands and a cutter: a
58 mm ZJ-5870 ignores GS ( k, GS k and GS V 0/1, and GS V 66 0 only feeds to its tear bar.
What is checked is what a resident or the counter staff would notice: the paper is cut (or fed
to the tear bar), nothing is left hanging, and every QR code and barcode on the paper scans,
with the quiet zone its standard asks for.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import zxingcpp
from PIL import Image, ImageChops

from device_drivers.printer import ReceiptPrinter, encode_job
from device_drivers.printer.document import Barcode, Document, Qr, Text
from device_drivers.printer.emulator import Capabilities
from device_drivers.printer.preview import preview_image
from device_drivers.printer.profiles import PROFILES, PrinterProfile, profile_for
from device_drivers.printer.samples import SAMPLE_KINDS, sample_document
from tests.fixtures.printing import PrintedJob, VirtualPrinter

StartPrinter = Callable[[PrinterProfile], VirtualPrinter]
TICKET_URL = "https://q.madoguchi.example/t/7Q2XK9"
ORDER_CODE = "P2604010042"


def _print(
    start: StartPrinter, profile: PrinterProfile, document: Document
) -> tuple[VirtualPrinter, list[PrintedJob]]:
    """Print `document` for `profile` on a virtual printer of that model; the jobs it wrote."""
    virtual = start(profile)
    printer = ReceiptPrinter(virtual.url, timeout=0.5)
    try:
        printer.print_job(encode_job(document, profile), f"{document.kind}-1")
        # Read before the link closes: a disconnect would end an uncut job by itself.
        return virtual, virtual.jobs()
    finally:
        printer.close()


def _box(paper: Image.Image, result: zxingcpp.Result) -> tuple[int, int, int, int]:
    """Inclusive bounding box of the symbol's dark dots, from the decoder's corners (±1 dot)."""
    corners = (result.position.top_left, result.position.top_right,
               result.position.bottom_left, result.position.bottom_right)  # fmt: skip
    xs, ys = [c.x for c in corners], [c.y for c in corners]
    near = (
        max(0, min(xs) - 1),
        max(0, min(ys) - 1),
        min(paper.width, max(xs) + 2),
        min(paper.height, max(ys) + 2),
    )
    dark = ImageChops.invert(paper.crop(near)).getbbox()
    assert dark is not None
    return near[0] + dark[0], near[1] + dark[1], near[0] + dark[2] - 1, near[1] + dark[3] - 1


def _light_around(paper: Image.Image, left: int, top: int, right: int, bottom: int) -> dict[str, int]:
    """Dots of unbroken white beside the box on each side, up to the edge of the printed paper."""

    def last_dark(region: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
        if region[0] >= region[2] or region[1] >= region[3]:
            return None
        return ImageChops.invert(paper.crop(region)).getbbox()

    found = last_dark((0, top, left, bottom + 1))
    west = left - found[2] if found else left
    found = last_dark((right + 1, top, paper.width, bottom + 1))
    east = found[0] if found else paper.width - right - 1
    found = last_dark((left, 0, right + 1, top))
    north = top - found[3] if found else top
    found = last_dark((left, bottom + 1, right + 1, paper.height))
    south = found[1] if found else paper.height - bottom - 1
    return {"left": west, "right": east, "top": north, "bottom": south}


def _run_length(row: list[int], start: int) -> int:
    end = start
    while end < len(row) and row[end] == row[start]:
        end += 1
    return end - start


def qr_on_paper(paper: Image.Image, text: str) -> tuple[float, dict[str, float]]:
    """Module size in dots and quiet zone in modules on each side of the QR code on `paper` that scans to `text`."""
    found = [
        r for r in zxingcpp.read_barcodes(paper, formats=zxingcpp.BarcodeFormat.QRCode) if r.text == text
    ]
    assert found, f"no QR code scanning to {text!r} on the paper"
    left, top, right, bottom = _box(paper, found[0])
    top_row = [paper.getpixel((x, top)) for x in range(paper.width)]
    module = _run_length(top_row, left) / 7  # the finder pattern's top edge is 7 modules
    light = _light_around(paper, left, top, right, bottom)
    return module, {side: dots / module for side, dots in light.items()}


def barcode_quiet_zone(paper: Image.Image, text: str) -> dict[str, float]:
    """Left and right quiet zone in modules of the CODE128 on `paper` that scans to exactly `text`."""
    found = zxingcpp.read_barcodes(paper, formats=zxingcpp.BarcodeFormat.Code128)
    assert [r.text for r in found] == [text]
    left, top, right, bottom = _box(paper, found[0])
    middle = [int(paper.getpixel((x, (top + bottom) // 2))) for x in range(left, right + 1)]
    runs, x = [], 0
    while x < len(middle):
        runs.append(_run_length(middle, x))
        x += runs[-1]
    module = min(runs)  # CODE128's start character has 1-module bars and spaces
    light = _light_around(paper, left, top, right, bottom)
    return {"left": light["left"] / module, "right": light["right"] / module, "module_dots": module}


@pytest.mark.parametrize("kind", SAMPLE_KINDS)
@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_job_on_every_profile_ends_cut_with_nothing_left_hanging(
    virtual_printer_for: StartPrinter, name: str, kind: str
) -> None:
    """GIVEN any profile and slip WHEN printed THEN exactly one job came off, ended by a cut (a feed to the
    tear bar on a model without cutter), nothing was printed after it, and no command the model lacks was sent."""
    profile = profile_for(name)
    virtual, jobs = _print(virtual_printer_for, profile, sample_document(kind, "ja"))
    assert len(jobs) == 1, f"{len(jobs)} jobs: the job was not cut"
    summary = jobs[0].summary
    assert summary["cut"] is True
    has_cutter = Capabilities.of_escpos_model(profile.escpos_profile).cutter
    assert summary["cut_mode"] in (("full", "partial") if has_cutter else ("tear-off",))
    assert summary["ignored"] == {}, f"the printer ignored {summary['ignored']}"
    assert not virtual.server.core.paper_since_cut, "printed paper left hanging after the cut"


@pytest.mark.parametrize("kind", ["ticket", "slip"])
@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_qr_has_a_four_module_quiet_zone_and_scans(
    virtual_printer_for: StartPrinter, name: str, kind: str
) -> None:
    """GIVEN any profile WHEN a ticket or slip prints THEN its QR scans and has >= 4 light modules on every side."""
    _, jobs = _print(virtual_printer_for, profile_for(name), sample_document(kind, "ja"))
    (job,) = jobs
    _, zone = qr_on_paper(job.paper, TICKET_URL if kind == "ticket" else ORDER_CODE)
    assert min(zone.values()) >= 4, zone


@pytest.mark.parametrize("name", ["generic-58", "tm-t20ii"])
def test_qr_too_wide_at_its_module_size_prints_smaller_with_its_quiet_zone(
    virtual_printer_for: StartPrinter, name: str
) -> None:
    """GIVEN a 700-character payload, too wide for the paper at the profile's module size with its quiet zone
    WHEN printed THEN it comes out with smaller modules, scans, and keeps 4 light modules on every side."""
    payload = "MDG1." + "".join(chr(97 + (i * 7) % 26) + str(i % 10) for i in range(304)) + "." + "b" * 86
    profile = profile_for(name)
    doc = Document("unissued_slip", (Text("未交付"), Qr(payload), Text("窓口へお持ちください")))
    _, (job,) = _print(virtual_printer_for, profile, doc)
    module, zone = qr_on_paper(job.paper, payload)
    assert module < profile.qr_module
    assert min(zone.values()) >= 4, zone


@pytest.mark.parametrize("code", [ORDER_CODE, "ORDER-2026-04-01-000042"])
def test_58mm_barcode_image_scans_to_exactly_the_code_with_ten_module_quiet_zones(
    virtual_printer_for: StartPrinter, code: str
) -> None:
    """GIVEN the generic-58 model (no GS k) WHEN a slip with a barcode prints THEN the barcode the printer
    drew from the raster image scans to exactly the code (no "{B"), with >= 10 light modules each side."""
    doc = Document("slip", (Text("お支払い"), Barcode(code), Text(code)))
    _, (job,) = _print(virtual_printer_for, profile_for("generic-58"), doc)
    assert job.summary["barcodes"] == []  # drawn from raster: the model has no barcode command
    zone = barcode_quiet_zone(job.paper, code)
    assert zone["left"] >= 10 and zone["right"] >= 10, zone


def test_58mm_sample_slip_barcode_scans_to_the_order_code(virtual_printer_for: StartPrinter) -> None:
    """GIVEN the sample payment slip on generic-58 WHEN printed THEN its barcode scans to the order code."""
    _, (job,) = _print(virtual_printer_for, profile_for("generic-58"), sample_document("slip", "ja"))
    zone = barcode_quiet_zone(job.paper, ORDER_CODE)
    assert zone["left"] >= 10 and zone["right"] >= 10, zone


@pytest.mark.parametrize("kind", SAMPLE_KINDS)
def test_58mm_paper_equals_the_driver_preview(virtual_printer_for: StartPrinter, kind: str) -> None:
    """GIVEN generic-58 (QR and barcodes as raster) WHEN a slip prints THEN the paper equals the preview."""
    profile = profile_for("generic-58")
    doc = sample_document(kind, "ja")
    _, (job,) = _print(virtual_printer_for, profile, doc)
    expected = preview_image(doc, profile).convert("L")
    assert job.paper.size == expected.size
    assert ImageChops.difference(job.paper, expected).getbbox() is None
