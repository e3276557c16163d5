"""Byte-level tests of the ESC/POS our receipt driver emits (raster and kanji mode)."""

from __future__ import annotations

import re

from PIL import Image

from device_drivers.printer.document import Align, Barcode, Document, Qr, Text, TextSize
from device_drivers.printer.encoder import encode_image, encode_raster, escpos_dummy
from device_drivers.printer.kanji import encode_kanji
from device_drivers.printer.profiles import profile_for
from device_drivers.printer.samples import sample_document

INIT = b"\x1b\x40"
ASB_OFF = b"\x1d\x61\x00"
CENTER = b"\x1b\x61\x01"
FS_C_1 = b"\x1c\x43\x01"


def _raster_headers(data: bytes) -> list[tuple[int, int]]:
    return [
        (m[4] + 256 * m[5], m[6] + 256 * m[7])
        for m in re.finditer(rb"\x1d\x76\x30(.)(.)(.)(.)(.)", data, re.S)
        for m in [m.group(0)]
    ]


def test_single_black_dot_is_the_documented_raster_command() -> None:
    """GIVEN a 1x1 black image WHEN encoded THEN it is exactly GS v 0 with one byte 0x80."""
    image = Image.new("1", (1, 1), 0)
    assert encode_image(escpos_dummy(profile_for("tm-t20ii")), image) == [
        bytes.fromhex("1d 76 30 00 01 00 01 00 80")
    ]


def test_raster_ticket_starts_with_init_and_asb_off_and_ends_with_cut() -> None:
    """GIVEN a ticket WHEN encoded for raster THEN it begins ESC @, GS a 0 and ends with a full cut."""
    job = encode_raster(sample_document("ticket", "ja"), profile_for("tm-t20ii"))
    assert job.segments[0] == INIT + ASB_OFF
    assert job.data.endswith(b"\x1d\x56\x00")
    assert b"\x1b\x64\x06" in job.segments[-1]  # feed to the cutter first


def test_raster_images_are_as_wide_as_the_profile() -> None:
    """GIVEN 576-, 512- and 384-dot profiles WHEN a receipt is encoded THEN every GS v 0 is that wide."""
    for name, dots in (("tm-t20ii", 576), ("tm-t88v", 512), ("generic-58", 384)):
        job = encode_raster(sample_document("receipt", "ja"), profile_for(name))
        headers = _raster_headers(job.data)
        assert headers, name
        assert {w for w, _ in headers} == {dots // 8}, name
        # Each raster segment holds exactly its declared payload.
        for segment in job.segments:
            if segment.startswith(b"\x1d\x76\x30"):
                w, h = segment[4] + 256 * segment[5], segment[6] + 256 * segment[7]
                assert len(segment) == 8 + w * h


def test_japanese_text_never_goes_out_as_gb18030_or_text() -> None:
    """GIVEN Japanese text WHEN encoded for raster THEN no encoded text of it appears in the bytes."""
    job = encode_raster(sample_document("receipt", "ja"), profile_for("tm-t20ii"))
    for word in ("領収書", "合計"):
        for codec in ("gb18030", "shift_jis", "utf-8"):
            assert word.encode(codec) not in job.data


def test_qr_is_native_and_alignment_is_set_first() -> None:
    """GIVEN a QR block WHEN encoded THEN ESC a 1 precedes GS ( k store/print with the URL as data."""
    url = "https://q.madoguchi.example/t/7Q2XK9"
    job = encode_raster(Document("t", (Qr(url),)), profile_for("tm-t20ii"))
    qr_segment = next(s for s in job.segments if b"\x1d\x28\x6b" in s)
    store = (
        b"\x1d\x28\x6b"
        + bytes([(len(url) + 3) % 256, (len(url) + 3) // 256])
        + b"\x31\x50\x30"
        + url.encode()
    )
    assert store in qr_segment
    assert CENTER in qr_segment[: qr_segment.index(b"\x1d\x28\x6b")]
    assert qr_segment.index(store) < qr_segment.index(b"\x1d\x28\x6b\x03\x00\x31\x51\x30")
    assert b"\x1d\x28\x6b\x03\x00\x31\x43\x06" in qr_segment  # module size 6
    assert len(qr_segment) < 120  # native, not an image


def test_barcode_is_native_code128_set_b() -> None:
    """GIVEN an order code WHEN encoded THEN GS k 73 carries {B + the code, centred."""
    job = encode_raster(Document("s", (Barcode("P2604010042"),)), profile_for("tm-t20ii"))
    segment = next(s for s in job.segments if b"\x1d\x6b" in s)
    assert CENTER in segment
    assert b"\x1d\x6b\x49\x0d{BP2604010042" in segment


def test_kanji_mode_sends_fs_c_1_and_shift_jis() -> None:
    """GIVEN a kanji-ROM profile WHEN a ticket is encoded THEN FS C 1 is sent and text is Shift_JIS."""
    job = encode_kanji(sample_document("ticket", "ja"), profile_for("tm-t20ii-j"))
    assert job.segments[0] == INIT + ASB_OFF + FS_C_1
    assert "受付番号".encode("shift_jis") in job.data
    assert "1階 3番窓口へお進みください".encode("shift_jis") in job.data
    assert b"\x1d\x76\x30" not in job.data  # no raster needed
    assert len(job) < 2048


def test_kanji_mode_prints_unencodable_line_as_raster() -> None:
    """GIVEN 𠮷 (outside JIS X 0208) WHEN encoded in kanji mode THEN that line is raster, others text."""
    doc = Document("t", (Text("𠮷田 様", TextSize.NORMAL, Align.LEFT), Text("受付")))
    job = encode_kanji(doc, profile_for("tm-t20ii-j"))
    assert len(_raster_headers(job.data)) == 1
    assert "受付".encode("shift_jis") in job.data
    assert "田 様".encode("shift_jis") not in job.data  # the whole line went raster


def test_kanji_mode_magnifies_the_queue_number() -> None:
    """GIVEN the HUGE number WHEN encoded in kanji mode THEN GS ! sets 6x width and height before it."""
    job = encode_kanji(Document("t", (Text("123", TextSize.HUGE, Align.CENTER),)), profile_for("tm-t20ii-j"))
    assert CENTER + b"\x1d\x21\x55" + b"\x1b\x45\x00" + b"123\n" in job.data
