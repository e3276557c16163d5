"""Payment reports for register orders, kept until the central has them (R-20: nothing is lost).

When the terminal has approved (or could not say) and the central cannot be reached, the report waits in
`<data_dir>/payments/order-reports.sqlite` (WAL, synchronous=FULL) and is sent again every `retry_s`
until the central answers. A refusal (the order was cancelled meanwhile, a wrong amount) is not retried:
it becomes a retained alert for staff, as the terminal's journal still holds the sale.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kiosk_app.orders_client import OrdersClient
from kiosk_app.rpc_client import RpcCallError, RpcTimeout
from madoguchi.contracts.orders import PaidOutcome
from madoguchi.sqlite import connect_durable

__all__ = ["OrderReport", "OrderReports"]

_logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    order_code TEXT PRIMARY KEY, outcome TEXT NOT NULL, method TEXT NOT NULL, amount_yen INTEGER NOT NULL,
    slip_no TEXT NOT NULL, req_id TEXT NOT NULL, created_ms INTEGER NOT NULL, tries INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
"""


@dataclass(frozen=True)
class OrderReport:
    """One payment result to tell the central (no card data: the terminal's slip number only)."""

    order_code: str
    outcome: PaidOutcome
    method: str
    amount_yen: int
    slip_no: str
    req_id: str = ""  # the RPC request id every attempt reuses, so the central applies the report once


class OrderReports:
    """The durable queue of order payment reports and its sender."""

    def __init__(self, path: Path, orders: OrdersClient, *, retry_s: float = 30.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = connect_durable(path, check_same_thread=False)
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._sending = threading.Lock()
        self.orders = orders
        # What to do with a report the central refused (the runner raises a retained alert for staff).
        self.on_refused: Callable[[OrderReport, str], None] = lambda item, why: None
        self.retry_s = retry_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def report(self, item: OrderReport) -> bool:
        """Journal `item` (with its request id), then try to send it now; True when the central has it."""
        item = dataclasses.replace(item, req_id=item.req_id or str(uuid.uuid4()))
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT OR REPLACE INTO reports"
                " (order_code, outcome, method, amount_yen, slip_no, req_id, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    item.order_code,
                    item.outcome.value,
                    item.method,
                    item.amount_yen,
                    item.slip_no,
                    item.req_id,
                    int(time.time() * 1000),
                ),
            )
            self._db.execute("COMMIT")
        return self._send(item)

    def pending(self) -> list[OrderReport]:
        """Reports the central does not have yet, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT order_code, outcome, method, amount_yen, slip_no, req_id FROM reports ORDER BY created_ms"
            ).fetchall()
        return [OrderReport(r[0], PaidOutcome(r[1]), r[2], r[3], r[4], r[5]) for r in rows]

    def _is_pending(self, code: str) -> bool:
        with self._lock:
            return (
                self._db.execute("SELECT 1 FROM reports WHERE order_code = ?", (code,)).fetchone() is not None
            )

    def _done(self, code: str) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM reports WHERE order_code = ?", (code,))
            self._db.execute("COMMIT")

    def _send(self, item: OrderReport) -> bool:
        with self._sending:  # `report()` and the retry thread never send at the same time
            return self._send_once(item)

    def _send_once(self, item: OrderReport) -> bool:
        if not self._is_pending(item.order_code):
            return True  # the other sender delivered it meanwhile
        try:
            self.orders.mark_paid(
                item.order_code, item.outcome, item.method, item.amount_yen, item.slip_no, item.req_id
            )
        except RpcTimeout:
            with self._lock:
                self._db.execute(
                    "UPDATE reports SET tries = tries + 1, last_error = 'timeout' WHERE order_code = ?",
                    (item.order_code,),
                )
            _logger.warning(
                "order %s: central not reachable; the %s report waits", item.order_code, item.outcome.value
            )
            return False
        except RpcCallError as exc:
            _logger.error(
                "order %s: central refused the %s report: %s",
                item.order_code,
                item.outcome.value,
                exc.code.value,
            )
            self._done(item.order_code)
            self.on_refused(item, exc.message)
            return False
        self._done(item.order_code)
        return True

    def start(self) -> None:
        """Send waiting reports now and every `retry_s` (in a thread)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="order-reports", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for item in self.pending():
                if self._stop.is_set() or not self._send(item):
                    break
            self._stop.wait(self.retry_s)

    def stop(self) -> None:
        """Stop retrying (waiting reports stay journaled for the next start)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        with self._lock:
            self._db.close()
