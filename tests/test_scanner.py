"""The slip scanner through a real serial port: the emulator writes bytes to a pty, `SerialScanner` reads them."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from device_drivers.scanner import PtyScannerEmulator, SerialScanner, open_scanner
from device_drivers.scanner.emulator import EmulatedPtyScanner
from madoguchi.contracts.orders import make_order_code, parse_slip, slip_qr_payload


@pytest.fixture
def scanner(tmp_path: Path) -> Iterator[tuple[PtyScannerEmulator, SerialScanner, queue.Queue[str]]]:
    emulator = PtyScannerEmulator(symlink=tmp_path / "scanner-tty")
    emulator.open()
    reader = SerialScanner(emulator.path, retry_s=0.1)
    scans: queue.Queue[str] = queue.Queue()
    reader.start(scans.put)
    deadline = time.monotonic() + 5
    while not reader.online:
        assert time.monotonic() < deadline, "the scanner port did not open"
        time.sleep(0.02)
    yield emulator, reader, scans
    reader.stop()
    emulator.close()


def test_a_slip_qr_scanned_gives_its_order_code(
    scanner: tuple[PtyScannerEmulator, SerialScanner, queue.Queue[str]],
) -> None:
    """GIVEN a payment slip's QR WHEN it is held under the scanner THEN the kiosk receives its text and the order
    code in it is found; a barcode with CR LF gives the code alone."""
    emulator, _reader, scans = scanner
    code = make_order_code("261122", 42)
    emulator.scan(slip_qr_payload(code, 300))
    assert parse_slip(scans.get(timeout=3)) == code
    emulator.suffix = b"\r\n"
    emulator.scan(code)
    assert scans.get(timeout=3) == code
    assert scans.empty()  # CR LF is one line end, not an empty second scan


def test_scans_in_pieces_and_in_shift_jis_arrive_whole(
    scanner: tuple[PtyScannerEmulator, SerialScanner, queue.Queue[str]],
) -> None:
    """GIVEN a scan arriving in two writes, and one in Shift_JIS WHEN read THEN each is delivered whole, as text."""
    emulator, _reader, scans = scanner
    emulator.send_raw(b"MDG1:P2611")
    time.sleep(0.3)
    emulator.send_raw(b"2200428:300\r")
    assert scans.get(timeout=3) == "MDG1:P26112200428:300"
    emulator.scan("住民票 窓口", encoding="shift_jis")
    assert scans.get(timeout=3) == "住民票 窓口"


def test_noise_is_rejected_and_the_next_scan_still_works(
    scanner: tuple[PtyScannerEmulator, SerialScanner, queue.Queue[str]],
) -> None:
    """GIVEN control characters, invalid bytes and an over-long code WHEN scanned THEN nothing is delivered for
    them, they are counted, and the next good scan arrives."""
    emulator, reader, scans = scanner
    emulator.send_raw(b"ab\x07cd\r")
    emulator.send_raw(b"\xff\xfe\xfd\r")
    emulator.scan("9" * 600)
    emulator.scan("P26112200428")
    assert scans.get(timeout=3) == "P26112200428"
    assert scans.empty() and reader.rejected == 3


def test_an_unplugged_scanner_comes_back_by_itself(
    scanner: tuple[PtyScannerEmulator, SerialScanner, queue.Queue[str]],
) -> None:
    """GIVEN a working scanner WHEN it is unplugged and plugged in again THEN the kiosk sees it offline, then
    reads scans again without a restart."""
    emulator, reader, scans = scanner
    emulator.device.unplug()
    deadline = time.monotonic() + 5
    while reader.online:
        assert time.monotonic() < deadline, "the unplugged scanner still shows online"
        time.sleep(0.05)
    emulator.device.replug()
    deadline = time.monotonic() + 5
    while not reader.online:
        assert time.monotonic() < deadline, "the scanner did not come back"
        time.sleep(0.05)
    emulator.scan("P26112200428")
    assert scans.get(timeout=3) == "P26112200428"


def test_pty_sim_url_gives_a_scanner_on_its_own_pty() -> None:
    """GIVEN `pty-sim://scanner` WHEN opened THEN scans go through a real pty to the reader."""
    scanner = open_scanner("pty-sim://scanner")
    assert isinstance(scanner, EmulatedPtyScanner)
    scans: queue.Queue[str] = queue.Queue()
    scanner.start(scans.put)
    try:
        deadline = time.monotonic() + 5
        while not scanner.online:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        scanner.scan("P26112200428")
        assert scans.get(timeout=3) == "P26112200428"
    finally:
        scanner.stop()


def test_scanner_emulator_command_scans_what_is_typed(tmp_path: Path) -> None:
    """GIVEN `kiosk scanner-emulator` WHEN a person types an order code and its amount THEN a reader on the
    printed port receives the slip's QR text."""
    import subprocess
    import sys

    link = tmp_path / "scanner-link"
    kiosk = str(Path(sys.executable).with_name("kiosk"))
    proc = subprocess.Popen(
        [kiosk, "scanner-emulator", "--link-file", str(link)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while not link.exists():
            assert time.monotonic() < deadline and proc.poll() is None, "no port published"
            time.sleep(0.05)
        reader = SerialScanner(link.read_text().strip(), retry_s=0.1)
        scans: queue.Queue[str] = queue.Queue()
        reader.start(scans.put)
        while not reader.online:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert proc.stdin is not None
        proc.stdin.write("P26112200428 300\n")
        proc.stdin.flush()
        assert scans.get(timeout=5) == "MDG1:P26112200428:300"
        reader.stop()
    finally:
        proc.terminate()
        proc.wait(10)
