"""The printing commands: `kiosk print-test`, `kiosk diag printer`, `kiosk printer-emulator`."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from device_drivers.printer.diag import register_diag
from kiosk_app.cli import main
from tests.fixtures.printing import VirtualPrinter, _free_port


def _diag(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    register_diag(parser.add_subparsers())
    args = parser.parse_args(argv)
    return int(args.func(args))


@pytest.mark.parametrize("kind", ["ticket", "slip", "receipt", "guide"])
def test_print_test_prints_each_sample_on_the_virtual_printer(
    virtual_printer: VirtualPrinter, kind: str
) -> None:
    """GIVEN a virtual printer WHEN `kiosk print-test KIND --lang en` runs THEN exit 0 and one job comes out."""
    assert main(["print-test", kind, "--printer", virtual_printer.url, "--lang", "en"]) == 0
    assert len(virtual_printer.job_files()) == 1


def test_print_test_with_paper_out_fails_with_a_clear_message(
    virtual_printer: VirtualPrinter, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN paper out WHEN print-test runs THEN exit 2 and the message names the problem."""
    virtual_printer.set_state(paper="out")
    assert main(["print-test", "ticket", "--printer", virtual_printer.url]) == 2
    assert "paper_out" in capsys.readouterr().err
    assert virtual_printer.job_files() == []


def test_print_test_certificate_writes_a_pdf(tmp_path: Path) -> None:
    """GIVEN no CUPS URL WHEN print-test certificate runs THEN the PDF is written where asked."""
    out = tmp_path / "c.pdf"
    assert main(["print-test", "certificate", "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")


def test_diag_printer_json_reports_paper_near_end_as_warning(
    virtual_printer: VirtualPrinter, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN paper near end WHEN `diag printer --json` THEN exit 0, health warning, problem listed."""
    virtual_printer.set_state(paper="near-end")
    assert _diag(["printer", "--printer", virtual_printer.url, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["health"] == "warning" and report["problems"] == ["paper_near_end"]


def test_diag_printer_cover_open_exits_1(
    virtual_printer: VirtualPrinter, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN the cover open WHEN `diag printer` THEN exit 1 and the text says cover_open."""
    virtual_printer.set_state(cover="open")
    assert _diag(["printer", "--printer", virtual_printer.url]) == 1
    assert "cover_open" in capsys.readouterr().out


def test_diag_printer_nothing_listening_is_offline(capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN no printer WHEN `diag printer --json` THEN exit 1 and offline."""
    assert (
        _diag(
            ["printer", "--printer", f"escpos+tcp://127.0.0.1:{_free_port()}", "--json", "--timeout", "0.3"]
        )
        == 1
    )
    assert json.loads(capsys.readouterr().out)["problems"] == ["offline"]


def test_printer_emulator_command_serves_tcp_and_pty(tmp_path: Path) -> None:
    """GIVEN `kiosk printer-emulator --port 0 --pty` WHEN a ticket is printed over TCP and the pty THEN two jobs are written."""
    from device_drivers.printer import ReceiptPrinter, encode_raster, profile_for
    from device_drivers.printer.samples import sample_document

    state = tmp_path / "state.json"
    state.write_text('{"online": true, "paper": "ok", "cover": "closed"}')
    proc = subprocess.Popen(
        [sys.executable, "-c", "from kiosk_app.cli import main; main()", "printer-emulator", "--port", "0",
         "--out", str(tmp_path / "jobs"), "--state-file", str(state), "--pty"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().split()
        tcp_url, pty_url = first[2], first[4]
        job = encode_raster(sample_document("ticket", "ja"), profile_for(None))
        for url in (tcp_url, pty_url + "?baud=115200"):
            printer = ReceiptPrinter(url, timeout=1.0)
            assert printer.print_job(job, "t").outcome.value == "printed"
            printer.close()
        deadline = time.monotonic() + 5
        while len(list((tmp_path / "jobs").glob("*.png"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(list((tmp_path / "jobs").glob("job-*.png"))) == 2
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_printer_emulator_command_behaves_as_a_58mm_model_without_cutter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN `kiosk printer-emulator --model ZJ-5870 --width 384` WHEN the generic-58 profile prints a ticket
    THEN the job ends with a feed to the tear bar and nothing was ignored; an unknown model is refused with
    a hint before anything listens."""
    from device_drivers.printer import ReceiptPrinter, encode_raster, profile_for
    from device_drivers.printer.samples import sample_document
    from kiosk_app.cli import main

    assert main(["printer-emulator", "--port", "0", "--out", str(tmp_path / "x"), "--model", "TM-NOPE"]) == 2
    assert "ZJ-5870" in capsys.readouterr().err
    proc = subprocess.Popen(
        [sys.executable, "-c", "from kiosk_app.cli import main; main()", "printer-emulator", "--port", "0",
         "--out", str(tmp_path / "jobs"), "--model", "ZJ-5870", "--width", "384"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        tcp_url = proc.stdout.readline().split()[2]
        profile = profile_for("generic-58")
        printer = ReceiptPrinter(tcp_url, timeout=1.0)
        assert printer.print_job(
            encode_raster(sample_document("ticket", "ja"), profile), "t"
        ).outcome.value == ("printed")
        printer.close()
        deadline = time.monotonic() + 5
        while not list((tmp_path / "jobs").glob("job-*.json")) and time.monotonic() < deadline:
            time.sleep(0.05)
        (record,) = list((tmp_path / "jobs").glob("job-*.json"))
        summary = json.loads(record.read_text())
        assert summary["cut_mode"] == "tear-off" and summary["ignored"] == {}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_every_printing_module_imports_without_side_effects() -> None:
    """GIVEN a fresh interpreter WHEN every printing module is imported THEN no thread, socket or file appears."""
    code = (
        "import importlib, pkgutil, threading, device_drivers.printer as p\n"
        "names = [m.name for m in pkgutil.walk_packages(p.__path__, 'device_drivers.printer.')]\n"
        "names += ['kiosk_app.commands.printer_emulator_cmd', 'kiosk_app.commands.print_test_cmd']\n"
        "[importlib.import_module(n) for n in names]\n"
        "print(len(names), threading.active_count())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    count, threads = done.stdout.split()
    assert int(count) >= 25 and threads == "1"
