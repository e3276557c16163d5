"""The kiosk's 整理券 parts in one place: RPC client, offline journal, lamps, sync thread and the desk.

`build_queue_parts()` opens them on the fleet agent's connection: the lamps follow `down/queue` (and hand
the central's opening time to the journal), the journal lives in `<data_dir>/queue/offline.sqlite`, the sync thread fetches the block and merges offline
tickets while the link is up. `DeviceRunner` attaches the desk (it needs the printer and the flow's post).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from kiosk_app.agent.link import FleetAgent
from kiosk_app.flows import queue_events as qe
from kiosk_app.flows.core import Event
from kiosk_app.queue_client import QueueClient
from kiosk_app.runner.outputs import ReceiptOutput
from kiosk_app.runner.queue_journal import QueueJournal
from kiosk_app.runner.queue_lamps import QueueLamps
from kiosk_app.runner.queue_sync import QueueSync
from kiosk_app.runner.tickets import TicketDesk
from madoguchi.config.kiosk import KioskConfig
from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.queue import CongestionView

__all__ = ["QueueParts", "build_queue_parts", "follow_opening_time"]

_logger = logging.getLogger(__name__)


@dataclass
class QueueParts:
    """Everything the ticket flow needs from the runner (`client` None: offline only)."""

    journal: QueueJournal
    client: QueueClient | None
    lamps: QueueLamps | None = None
    sync: QueueSync | None = None
    link_up: Callable[[], bool] = lambda: True
    desk: TicketDesk | None = field(default=None, init=False)

    def attach(self, catalog: Catalog, receipt: ReceiptOutput | None, post: Callable[[Event], None]) -> None:
        """Make the desk; pass lamp changes on to the flow."""
        self.desk = TicketDesk(
            catalog,
            self.journal,
            self.client,
            receipt,
            post,
            lamps=self.lamps,
            sync=self.sync,
            link_up=self.link_up,
        )
        if self.lamps is not None:
            self.lamps.add_listener(lambda view: post(qe.CongestionChanged(view)))

    def start(self) -> None:
        """Start the sync thread."""
        if self.sync is not None:
            self.sync.start()

    def stop(self) -> None:
        """Stop the sync thread and close the journal."""
        if self.sync is not None:
            self.sync.stop()
        self.journal.close()


def follow_opening_time(journal: QueueJournal, view: CongestionView | None) -> None:
    """Number offline tickets by the central's business day once its lamps say where it starts."""
    if view is not None and view.opening_time is not None:
        journal.adopt_opening_time(view.opening_time)


def build_queue_parts(config: KioskConfig, agent: FleetAgent, *, timeout_s: float = 6.0) -> QueueParts:
    """The queue parts on the agent's connection (call after `agent.start()`)."""
    journal = QueueJournal(
        config.kiosk.data_dir / "queue" / "offline.sqlite",
        opening_time=config.queue.opening_time,
        status_url_base=config.queue.status_url_base,
    )
    client = QueueClient(agent.rpc_client(retry_s=2.0), timeout_s=timeout_s)
    lamps = QueueLamps(config.device_id)
    lamps.add_listener(lambda view: follow_opening_time(journal, view))
    agent.add_downlink(lamps.handle)
    link_up = agent.connected.is_set
    sync = QueueSync(journal, client, link_up=link_up, alerts=agent)
    return QueueParts(journal, client, lamps, sync, link_up)
