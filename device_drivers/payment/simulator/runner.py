"""Start and stop the simulator on a pty in a background thread (tests, `pty-sim://`, the CLI)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from device_drivers.payment.clock import Clock, SystemClock
from device_drivers.payment.codec import Timers
from device_drivers.payment.simulator.behaviours import Behaviour
from device_drivers.payment.simulator.ledger import Ledger
from device_drivers.payment.simulator.pty_device import PtyDevice
from device_drivers.payment.simulator.terminal import SimTerminal
from device_drivers.payment.transport import SerialPortSource

__all__ = ["RunningSimulator", "SimulatedPortSource", "parse_behaviour", "start_simulator"]

_logger = logging.getLogger(__name__)


def parse_behaviour(name: str | Behaviour) -> Behaviour:
    """The behaviour called `name`, or a ValueError listing the valid ones."""
    try:
        return Behaviour(name)
    except ValueError:
        names = ", ".join(b.value for b in Behaviour)
        raise ValueError(f"unknown simulator script {name!r}; use one of: {names}") from None


@dataclass
class RunningSimulator:
    """A simulator serving a pty in a thread; `path` is the slave the kiosk opens."""

    terminal: SimTerminal
    device: PtyDevice
    thread: threading.Thread
    stop_event: threading.Event

    @property
    def path(self) -> str:
        """The stable path to open: the symlink when there is one, else the pty slave."""
        return str(self.device.symlink) if self.device.symlink is not None else self.device.path

    @property
    def behaviour(self) -> Behaviour:
        """The scripted behaviour."""
        return self.terminal.behaviour

    @property
    def ledger(self) -> Ledger:
        """The ledger of real charges."""
        return self.terminal.ledger

    def stop(self) -> None:
        """Stop the thread and close the pty."""
        self.stop_event.set()
        self.thread.join(timeout=5)
        self.device.close()


def start_simulator(
    behaviour: str | Behaviour = Behaviour.APPROVE,
    ledger_path: Path | None = None,
    link_file: Path | None = None,
    symlink: Path | None = None,
    clock: Clock | None = None,
    jump_time: bool = False,
    timers: Timers | None = None,
) -> RunningSimulator:
    """Open a pty pair and serve a simulated terminal on it in a daemon thread."""
    device = PtyDevice(link_file=link_file, symlink=symlink)
    device.open()
    terminal = SimTerminal(
        device=device,
        behaviour=parse_behaviour(behaviour),
        ledger=Ledger(ledger_path),
        clock=clock or SystemClock(),
        jump_time=jump_time,
        timers=timers or Timers(t_ack=0.5),
    )
    stop = threading.Event()
    thread = threading.Thread(target=terminal.serve, args=(stop,), name="payment-simulator", daemon=True)
    thread.start()
    return RunningSimulator(terminal, device, thread, stop)


@dataclass(frozen=True)
class SimulatedPortSource(SerialPortSource):
    """A serial port source that also owns the simulator it started (`pty-sim://`)."""

    simulator: RunningSimulator | None = field(default=None, compare=False)

    def close(self) -> None:
        """Stop the owned simulator."""
        if self.simulator is not None:
            self.simulator.stop()
