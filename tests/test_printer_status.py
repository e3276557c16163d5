"""Printer status: DLE EOT decoding, the virtual printer's answers, events, and jobs that do not print."""

from __future__ import annotations

import queue
import time
from pathlib import Path

import pytest

from device_drivers.printer.document import Document, Text
from device_drivers.printer.encoder import encode_raster
from device_drivers.printer.errors import PrintJobFailed
from device_drivers.printer.events import JobOutcome, PrinterStatusChanged, PrintJobReported
from device_drivers.printer.job import ReceiptPrinter
from device_drivers.printer.profiles import profile_for
from device_drivers.printer.samples import sample_document
from device_drivers.printer.status import UNREACHABLE, Health, PaperLevel, decode_status
from tests.fixtures.printing import VirtualPrinter

# Replies to DLE EOT 1, 2, 4 (and 3) from the Epson reference / emupos.
CASES = {
    "normal": ({1: 0x12, 2: 0x12, 4: 0x12}, (), Health.OK),
    "near_end": ({1: 0x12, 2: 0x12, 4: 0x1E}, ("paper_near_end",), Health.WARNING),
    "paper_out": ({1: 0x1A, 2: 0x32, 4: 0x7E}, ("paper_out",), Health.ERROR),
    "cover_open": ({1: 0x1A, 2: 0x16, 4: 0x12}, ("cover_open",), Health.ERROR),
    "offline": ({1: 0x1A, 2: 0x12, 4: 0x12}, ("offline",), Health.ERROR),
    "cutter": ({1: 0x1A, 2: 0x52, 3: 0x1A, 4: 0x12}, ("cutter_error",), Health.ERROR),
    "unrecoverable": ({1: 0x1A, 2: 0x52, 3: 0x32, 4: 0x12}, ("unrecoverable_error",), Health.ERROR),
    "recoverable": ({1: 0x1A, 2: 0x52, 3: 0x16, 4: 0x12}, ("recoverable_error",), Health.ERROR),
    "overheat": ({1: 0x1A, 2: 0x52, 3: 0x52, 4: 0x12}, ("auto_recoverable_error",), Health.ERROR),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_dle_eot_replies_decode_to_the_right_problem(case: str) -> None:
    """GIVEN documented reply bytes WHEN decoded THEN the problem and health match."""
    replies, problems, health = CASES[case]
    status = decode_status(replies)
    assert status.problems == problems
    assert status.health is health


def test_no_answer_or_garbage_is_offline_never_ok() -> None:
    """GIVEN a missing or malformed reply WHEN decoded THEN the printer is unreachable."""
    assert decode_status({1: None, 2: 0x12, 4: 0x12}) == UNREACHABLE
    assert decode_status({1: 0x12, 2: 0x12, 4: 0x00}) == UNREACHABLE
    assert UNREACHABLE.problems == ("offline",) and not UNREACHABLE.ready


@pytest.mark.parametrize(
    ("state", "problems", "paper"),
    [
        ({}, (), PaperLevel.OK),
        ({"paper": "near-end"}, ("paper_near_end",), PaperLevel.NEAR_END),
        ({"paper": "out"}, ("paper_out",), PaperLevel.OUT),
        ({"cover": "open"}, ("cover_open",), PaperLevel.OK),
        ({"online": False}, ("offline",), PaperLevel.OK),
        ({"cutter_error": True}, ("cutter_error",), PaperLevel.OK),
        ({"responding": False}, ("offline",), PaperLevel.UNKNOWN),
    ],
)
def test_virtual_printer_state_is_reported(
    virtual_printer: VirtualPrinter, state: dict, problems: tuple, paper: PaperLevel
) -> None:
    """GIVEN a state file WHEN the driver asks over TCP THEN it reports that state."""
    virtual_printer.set_state(**state)
    printer = ReceiptPrinter(virtual_printer.url, timeout=0.3)
    try:
        status = printer.status()
    finally:
        printer.close()
    assert status.problems == problems
    assert status.paper is paper


def test_printer_not_listening_is_offline() -> None:
    """GIVEN nothing on the port WHEN asked THEN offline (not an exception, not OK)."""
    from tests.fixtures.printing import _free_port

    printer = ReceiptPrinter(f"escpos+tcp://127.0.0.1:{_free_port()}", timeout=0.3)
    assert printer.status() == UNREACHABLE


def test_status_changes_are_reported_as_events(virtual_printer: VirtualPrinter) -> None:
    """GIVEN an event queue WHEN the paper runs low, then out THEN one event per change, none when unchanged."""
    events: queue.Queue[object] = queue.Queue()
    printer = ReceiptPrinter(virtual_printer.url, on_event=events.put, timeout=0.3)
    try:
        printer.status()
        printer.status()
        virtual_printer.set_state(paper="near-end")
        printer.status()
        virtual_printer.set_state(paper="out")
        printer.status()
    finally:
        printer.close()
    seen = [events.get_nowait() for _ in range(events.qsize())]
    assert all(isinstance(e, PrinterStatusChanged) for e in seen)
    assert [e.current.problems for e in seen] == [(), ("paper_near_end",), ("paper_out",)]  # type: ignore[attr-defined]
    assert seen[1].previous == seen[0].current  # type: ignore[attr-defined]


def test_job_sent_while_paper_is_out_is_reported_not_printed(virtual_printer: VirtualPrinter) -> None:
    """GIVEN paper out WHEN a receipt is printed THEN PrintJobFailed(not_printed, paper_out) and nothing reaches the paper."""
    virtual_printer.set_state(paper="out")
    events: queue.Queue[object] = queue.Queue()
    printer = ReceiptPrinter(virtual_printer.url, on_event=events.put, timeout=0.3)
    job = encode_raster(sample_document("receipt", "ja"), profile_for(None))
    with pytest.raises(PrintJobFailed) as failure:
        printer.print_job(job, "r-1")
    printer.close()
    result = failure.value.result
    assert result.outcome is JobOutcome.NOT_PRINTED
    assert result.problem == "paper_out"
    assert result.bytes_sent == 0
    assert failure.value.code == "printer.paper_out"
    reports = [e for e in list(events.queue) if isinstance(e, PrintJobReported)]
    assert [(r.job_id, r.outcome) for r in reports] == [("r-1", JobOutcome.NOT_PRINTED)]
    virtual_printer.server.core.flush()
    assert virtual_printer.job_files() == []


def test_paper_running_out_mid_job_is_reported_and_held_data_prints_after_the_fix(
    virtual_printer: VirtualPrinter,
) -> None:
    """GIVEN a roll that ends after 300 rows WHEN a long receipt prints THEN interrupted/paper_out; after a new roll the rest prints."""
    virtual_printer.set_state(paper_out_after_rows=300)
    printer = ReceiptPrinter(virtual_printer.url, timeout=0.3, done_timeout=0.5)
    job = encode_raster(sample_document("receipt", "ja"), profile_for(None))
    with pytest.raises(PrintJobFailed) as failure:
        printer.print_job(job, "r-2")
    result = failure.value.result
    assert result.outcome is JobOutcome.INTERRUPTED
    assert result.problem == "paper_out"
    assert 0 < result.segments_sent < result.segments_total
    # The kiosk voids or reprints; here staff loads paper and the held part comes out.
    virtual_printer.set_state()
    printer.status()
    printer.close()
    deadline = time.monotonic() + 3
    while not virtual_printer.server.core.jobs and time.monotonic() < deadline:
        time.sleep(0.05)
    (record,) = virtual_printer.server.core.jobs
    assert record.cut is False  # the tail was never sent: an incomplete, uncut slip
    assert 300 <= record.raster_rows < sum(s.count(b"\x1d\x76\x30") for s in job.segments) * 256


def test_printer_gone_mid_job_is_reported_interrupted(virtual_printer: VirtualPrinter) -> None:
    """GIVEN the printer disappears after the first segment WHEN printing THEN interrupted/offline."""
    from device_drivers.printer.transport import open_transport

    def opener(url: str, timeout: float):  # type: ignore[no-untyped-def]
        transport = open_transport(url, timeout)
        original = transport.write
        count = {"n": 0}

        def write(data: bytes) -> None:
            if len(data) > 3:  # a job segment, not a status request
                count["n"] += 1
                if count["n"] == 2:
                    virtual_printer.server.stop()  # the printer goes away mid-job
            original(data)

        transport.write = write  # type: ignore[method-assign]
        return transport

    printer = ReceiptPrinter(virtual_printer.url, timeout=0.3, opener=opener)
    job = encode_raster(Document("t", tuple(Text(f"line {i}") for i in range(40))), profile_for(None))
    with pytest.raises(PrintJobFailed) as failure:
        printer.print_job(job, "t-3")
    assert failure.value.result.outcome is JobOutcome.INTERRUPTED
    assert failure.value.result.problem == "offline"


def test_emulated_url_prints_in_process(tmp_path: Path) -> None:
    """GIVEN emulated://printer with out and state WHEN a slip prints THEN it is written there; paper out blocks."""
    state = tmp_path / "state.json"
    state.write_text('{"paper": "near-end"}')
    printer = ReceiptPrinter(f"emulated://printer?out={tmp_path / 'jobs'}&state={state}", timeout=0.2)
    result = printer.print_job(encode_raster(sample_document("slip", "ja"), profile_for(None)), "s-1")
    assert result.status.problems == ("paper_near_end",)
    assert len(list((tmp_path / "jobs").glob("job-*.png"))) == 1
    state.write_text('{"paper": "out"}')
    with pytest.raises(PrintJobFailed):
        printer.print_job(encode_raster(sample_document("slip", "ja"), profile_for(None)), "s-2")
    printer.close()


@pytest.mark.parametrize(
    ("reasons", "health"),
    [
        ((), "ok"),
        (("media-low-report",), "warning"),
        (("media-empty-error",), "error"),
        (("media-jam",), "error"),
        (("door-open-warning",), "warning"),
        (("offline-report",), "warning"),
        (("cups-waiting-for-job-completed",), "warning"),
    ],
)
def test_a4_state_reasons_map_to_health(reasons: tuple[str, ...], health: str) -> None:
    """GIVEN IPP printer-state-reasons WHEN summarised THEN paper-out, jam and errors block; reports only warn."""
    from device_drivers.printer.a4.cups import A4Status

    assert A4Status(True, "idle", reasons, True).health.value == health
