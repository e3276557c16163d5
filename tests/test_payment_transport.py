"""The kiosk end on a raw pty driven by hand: exact first bytes, retries, unplug, device URLs."""

from __future__ import annotations

import os
import select
import threading
from pathlib import Path

import pytest

from device_drivers.errors import PaymentError
from device_drivers.payment.clock import FakeClock
from device_drivers.payment.errors import LinkLost
from device_drivers.payment.journal import Journal
from device_drivers.payment.kpl import KplCodec
from device_drivers.payment.messages import Method, ResultCode, StatusReply, TerminalState
from device_drivers.payment.session import Session
from device_drivers.payment.transport import SerialPortSource, port_from_url
from madoguchi.device_urls import DeviceUrlError
from tests.fixtures.serial_pty import PtyPair

STS_01 = bytes.fromhex("02 30 31 30 30 30 33 53 54 53 03 55")


def _read_exactly(fd: int, count: int, timeout: float = 5.0) -> bytes:
    data = b""
    while len(data) < count:
        ready, _, _ = select.select([fd], [], [], timeout)
        assert ready, f"only {data!r} arrived"
        data += os.read(fd, count - len(data))
    return data


def test_first_bytes_after_open_are_sts_with_seq_01(tmp_path: Path, raw_pty_pair: PtyPair) -> None:
    """GIVEN a terminal played by hand on the pty master WHEN the kiosk opens the port THEN the first
    bytes on the wire are exactly the reference STS frame, and an STR answer is understood."""
    session = Session(
        SerialPortSource(raw_pty_pair.path),
        Journal(tmp_path / "j.sqlite", "jp-131016-k03"),
        KplCodec(),
        FakeClock(),
    )
    answers: list[StatusReply] = []
    worker = threading.Thread(target=lambda: answers.append(session.connect()))
    worker.start()
    assert _read_exactly(raw_pty_pair.master, len(STS_01)) == STS_01
    os.write(raw_pty_pair.master, b"\x06" + KplCodec().encode(1, StatusReply(TerminalState.READY, "T-9")))
    assert _read_exactly(raw_pty_pair.master, 1) == b"\x06"  # the kiosk ACKs the STR
    worker.join(timeout=5)
    session.disconnect()
    assert answers == [StatusReply(TerminalState.READY, "T-9")]


def test_unanswered_frame_is_sent_three_times_then_fails(tmp_path: Path, raw_pty_pair: PtyPair) -> None:
    """GIVEN a terminal that never ACKs WHEN the kiosk sends STS THEN three identical transmissions,
    T_ACK apart, then a PaymentError; no journal entry is made for a status check."""
    clock = FakeClock(idle_step=0.5)
    journal = Journal(tmp_path / "j.sqlite", "jp-131016-k03")
    session = Session(SerialPortSource(raw_pty_pair.path), journal, KplCodec(), clock)
    start = clock.monotonic()
    with pytest.raises(PaymentError, match="not acknowledged after 3 tries"):
        session.connect()
    assert clock.monotonic() - start >= 9.0
    session.disconnect()
    assert _read_exactly(raw_pty_pair.master, 3 * len(STS_01)) == STS_01 * 3
    assert journal.records() == []


def test_closed_master_reads_as_link_lost(raw_pty_pair: PtyPair) -> None:
    """GIVEN an open port WHEN the other end's master is closed (cable pulled) THEN reads raise LinkLost."""
    transport = SerialPortSource(raw_pty_pair.path).open()
    raw_pty_pair.close()
    with pytest.raises(LinkLost):
        for _ in range(10):
            transport.read(64)
    transport.close()


def test_serial_url_line_settings_and_clear_errors() -> None:
    """GIVEN serial URLs WHEN parsed THEN line settings come from the query; bad ones say what to write."""
    source = port_from_url("serial:///dev/serial/by-id/usb-term?baud=19200&parity=e&stopbits=2")
    assert (source.path, source.line.baudrate, source.line.parity, source.line.stopbits) == (
        "/dev/serial/by-id/usb-term",
        19200,
        "E",
        2,
    )
    with pytest.raises(DeviceUrlError, match="parity"):
        port_from_url("serial:///dev/x?parity=Q")
    with pytest.raises(DeviceUrlError, match="cannot drive a payment"):
        port_from_url("cups://Kiosk_A4")


def test_pty_sim_url_starts_the_simulator_and_close_stops_it(tmp_path: Path) -> None:
    """GIVEN pty-sim://payment?script=decline WHEN a sale runs THEN it goes over the simulator's pty and
    is declined; closing the terminal stops the simulator."""
    from device_drivers.payment.driver import PaymentTerminal

    source = port_from_url(f"pty-sim://payment?script=decline&ledger={tmp_path / 'ledger.jsonl'}")
    terminal = PaymentTerminal(source, Journal(tmp_path / "j.sqlite", "jp-131016-k03"))
    record = terminal.sale("o-url", 300, Method.QR)
    assert record.result is ResultCode.DECLINED
    sim = source.simulator  # type: ignore[attr-defined]
    terminal.close()
    assert not sim.thread.is_alive()


def test_stuck_line_write_times_out_instead_of_hanging(raw_pty_pair: PtyPair) -> None:
    """GIVEN nobody reads the other end (buffer full) WHEN the kiosk keeps writing THEN LinkLost after
    the write time-out rather than blocking forever."""
    transport = SerialPortSource(raw_pty_pair.path, write_timeout=0.2).open()
    try:
        with pytest.raises(LinkLost, match="timed out"):
            for _ in range(200):
                transport.write(b"\x00" * 4096)
    finally:
        transport.close()


def test_terminal_gone_for_good_after_sal_ends_unknown_never_failed(
    tmp_path: Path, raw_pty_pair: PtyPair
) -> None:
    """GIVEN a terminal that ACKs our SAL and then disappears for good WHEN inquiry cannot reach it within
    the recovery budget THEN the payment is UNKNOWN ("contact staff", order blocked), never "failed"."""
    from device_drivers.payment.codec import Received, Timers
    from device_drivers.payment.driver import PaymentTerminal
    from device_drivers.payment.errors import OrderBlocked
    from device_drivers.payment.messages import Sale, Status
    from device_drivers.payment.records import JournalState

    codec = KplCodec()
    clock = FakeClock(idle_step=0.05)
    journal = Journal(tmp_path / "j.sqlite", "jp-131016-k03", clock=clock)
    terminal = PaymentTerminal(
        SerialPortSource(raw_pty_pair.path), journal, clock=clock, timers=Timers(recovery_budget=60.0)
    )

    def play() -> None:
        parser = codec.parser()
        seq = 0
        while True:
            ready, _, _ = select.select([raw_pty_pair.master], [], [], 5)
            assert ready
            for event in parser.feed(os.read(raw_pty_pair.master, 4096), 0.0):
                if isinstance(event, Received) and isinstance(event.message, Status):
                    seq += 1
                    os.write(
                        raw_pty_pair.master, b"\x06" + codec.encode(seq, StatusReply(TerminalState.READY))
                    )
                elif isinstance(event, Received) and isinstance(event.message, Sale):
                    os.write(raw_pty_pair.master, b"\x06")
                    raw_pty_pair.close()  # pulled: the pty and its path are gone
                    return

    player = threading.Thread(target=play)
    player.start()
    record = terminal.sale("order-gone", 300, Method.CREDIT)
    player.join(timeout=5)
    terminal.close()
    assert record.state is JournalState.UNKNOWN and record.needs_staff and not record.paid
    assert record.last_error is not None and "no definite answer" in record.last_error
    with pytest.raises(OrderBlocked):
        journal.check_order("order-gone")
    journal.close()
