"""Shared helpers for the payment tests: a kiosk-side terminal on the simulator's pty."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from device_drivers.payment.clock import Clock, FakeClock
from device_drivers.payment.codec import Timers
from device_drivers.payment.driver import PaymentTerminal
from device_drivers.payment.journal import Journal
from device_drivers.payment.records import JournalState, PaymentEvent
from device_drivers.payment.simulator import RunningSimulator
from device_drivers.payment.transport import SerialPortSource
from kiosk_app.cli import main

KIOSK_ID = "jp-131016-k03"


@dataclass
class Kiosk:
    """The kiosk side of a test: driver, journal, clock and the events it delivered."""

    terminal: PaymentTerminal
    journal: Journal
    clock: Clock
    events: list[PaymentEvent] = field(default_factory=list)

    def states(self, ref: str) -> list[JournalState]:
        """Journal states of `ref`, oldest first."""
        return [state for state, _wall, _mono, _detail in self.journal.events(ref)]

    def details(self, ref: str) -> list[str]:
        """Journal event details of `ref`."""
        return [detail for _state, _wall, _mono, detail in self.journal.events(ref)]


def make_kiosk(
    tmp_path: Path,
    sim: RunningSimulator,
    clock: Clock | None = None,
    timers: Timers | None = None,
    journal_name: str = "journal.sqlite",
) -> Kiosk:
    """A driver on the simulator's stable symlink with its own journal in `tmp_path`."""
    clock = clock or FakeClock()
    journal = Journal(tmp_path / journal_name, KIOSK_ID, clock=clock)
    timers = timers or Timers(recovery_budget=120.0)
    terminal = PaymentTerminal(SerialPortSource(sim.path), journal, clock=clock, timers=timers)
    return Kiosk(terminal, journal, clock)


class Records(logging.Handler):
    """Keeps every formatted log line."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass(frozen=True)
class Run:
    """Outcome of one `kiosk` command line."""

    returncode: int
    stdout: str
    stderr: str


def kiosk_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Run `kiosk ARGS...` through the real entry point in this process (no interpreter start-up cost)."""

    def run(*args: str) -> Run:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return Run(code, out, err)

    return run
