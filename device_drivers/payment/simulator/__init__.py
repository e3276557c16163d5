"""The payment terminal simulator: plays a KPL v1 terminal on a pty pair (ships with the product).

Used by the tests, by `pty-sim://payment` device URLs and by `kiosk payment-simulator --pty`.
Nothing starts at import; call `start_simulator()`.
"""

from __future__ import annotations

from device_drivers.payment.simulator.behaviours import Behaviour
from device_drivers.payment.simulator.ledger import Ledger, LedgerEntry
from device_drivers.payment.simulator.runner import RunningSimulator, SimulatedPortSource, start_simulator

__all__ = ["Behaviour", "Ledger", "LedgerEntry", "RunningSimulator", "SimulatedPortSource", "start_simulator"]
