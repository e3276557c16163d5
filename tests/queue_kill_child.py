"""Child process for the offline-ticket kill test: a kiosk that takes a number offline and is SIGKILLed the
moment the printer starts, i.e. after the ticket was journaled and before any paper came out.

    python -m tests.queue_kill_child JOURNAL
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from device_drivers.printer.document import Document
from kiosk_app.flows import queue_events as qe
from kiosk_app.rpc_client import RpcTimeout
from kiosk_app.runner.queue_journal import QueueJournal
from kiosk_app.runner.tickets import TicketDesk
from madoguchi.contracts.catalog import load_sample_catalog
from madoguchi.contracts.queue import TakeParams, TicketView


class Unreachable:
    def take(self, params: TakeParams) -> TicketView:
        raise RpcTimeout("no answer")


class PowerCut:
    def print_document(self, document: Document) -> None:
        os.kill(os.getpid(), signal.SIGKILL)


def main() -> int:
    journal = QueueJournal(Path(sys.argv[1]))
    desk = TicketDesk(load_sample_catalog(), journal, Unreachable(), PowerCut(), print)
    desk.take(qe.TakeTicket("moving", "ja"))
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main())
