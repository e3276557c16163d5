"""Child process for the kill tests: a kiosk sale that SIGKILLs itself right after a journal state.

    python -m tests.payment_kill_child DEVICE JOURNAL ORDER AMOUNT STATE

The hook runs after the state's commit returned (fsynced), exactly where a power cut or crash
would leave the kiosk between two steps.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from device_drivers.payment.driver import PaymentTerminal
from device_drivers.payment.journal import Journal
from device_drivers.payment.messages import Method
from device_drivers.payment.records import JournalState
from device_drivers.payment.transport import SerialPortSource

KIOSK_ID = "jp-131016-k03"


def main() -> int:
    device, journal_path, order, amount, state = sys.argv[1:6]
    kill_at = JournalState(state)

    def hook(_ref: str, committed: JournalState) -> None:
        if committed is kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    journal = Journal(Path(journal_path), KIOSK_ID, after_commit=hook)
    terminal = PaymentTerminal(SerialPortSource(device), journal)
    terminal.open()
    record = terminal.sale(order, int(amount), Method.CREDIT)
    print(record.state.value)
    return 0


if __name__ == "__main__":
    sys.exit(main())
