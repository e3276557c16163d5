"""The demo's visit queue: simulated counter staff at the demo kiosk's branch, the board and a status URL.

`DemoQueue.prepare` reads the demo central's configuration and creates the display boards' secret before
the central starts (so both read the same file); `begin` — once the kiosk is online and its branch known —
takes a first reception ticket (its status page is printed), and starts `SimulatedStaff` on the central's
store, so the board, the status pages and the KPIs move. The kiosk's own autopilot residents take numbers
through `queue.take` and get their status URL in the printed ticket's QR.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

from central_broker.queue import QueueService, open_queue
from central_broker.queue_link import SimulatedStaff, StaffPlan, public_base, queue_config, status_url
from central_broker.web.queue_common import board_key, load_board_secret
from central_broker.web.setup import board_secret_file, catalog_of
from madoguchi.config.central import CentralConfig, load_central_config

__all__ = ["FIRST_CATEGORY", "DemoQueue"]

_logger = logging.getLogger(__name__)

FIRST_CATEGORY = "moving"  # the reception ticket whose status page the demo prints
CONCIERGE_EVERY_S = 20.0  # without autopilot residents the reception desk issues a number this often


class DemoQueue:
    """Simulated staff, board and status URLs of the demo central at `config_path`."""

    def __init__(self, config_path: Path) -> None:
        self.config_path = config_path
        self._config: CentralConfig | None = None
        self._secret = b""
        self.queue: QueueService | None = None
        self.staff: SimulatedStaff | None = None
        self.branch: str | None = None
        self.board_url: str | None = None
        self.status_url: str | None = None

    def prepare(self) -> None:
        """Read the configuration and create the board secret (call before the central starts)."""
        self._config = load_central_config(self.config_path)
        self._secret = load_board_secret(board_secret_file(self._config))

    def begin(self, branch: str, *, residents_at_kiosk: bool) -> None:
        """Take the first ticket at reception and let the staff work `branch`'s counters.

        `residents_at_kiosk`: autopilot residents take numbers; otherwise the reception desk issues one
        every `CONCIERGE_EVERY_S`.
        """
        config = self._config or load_central_config(self.config_path)
        self.branch = branch
        base = public_base(config)
        self.board_url = f"{base}/board/{quote(branch, safe='')}?key={board_key(self._secret, branch)}"
        self.queue = open_queue(config.central.store_url, catalog_of(config), queue_config(config.queue))
        plan = StaffPlan(concierge_every_s=None if residents_at_kiosk else CONCIERGE_EVERY_S)
        self.staff = SimulatedStaff(self.queue, branch, plan)
        self.status_url = status_url(base, self.staff.take_ticket(FIRST_CATEGORY))
        self.staff.start()

    def reception_takes_over(self) -> None:
        """The kiosk's residents are gone: the reception desk issues a number every `CONCIERGE_EVERY_S`."""
        if self.staff is not None and self.staff.concierge_every_s is None:
            self.staff.concierge_every_s = CONCIERGE_EVERY_S

    def stop(self) -> None:
        """Stop the staff and release the database."""
        if self.staff is not None:
            self.staff.stop()
        if self.queue is not None:
            self.queue.close()
