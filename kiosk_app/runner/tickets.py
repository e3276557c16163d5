"""`TicketDesk`: the runner's part of the 整理券 flow — take a number (online, else offline), print it.

Online: `queue.take` with the kiosk's deadline (the RPC client re-sends the same `req_id` until then). A
refusal goes back to the resident with its reason. No answer (timeout, broker down) or a central that does
not serve queue numbers: the number comes from the kiosk's own block, journaled before it is printed
(`QueueJournal`), and the sync thread hands it to the central later. Then the ticket is printed on the
receipt printer in the resident's language + Japanese; a printer failure still shows the number on screen.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from device_drivers.errors import DeviceError
from device_drivers.printer.document import Document
from device_drivers.printer.visit_ticket import VisitStop, VisitTicket, visit_ticket_document
from kiosk_app.flows import queue_events as qe
from kiosk_app.flows.core import Event
from kiosk_app.queue_client import QueueRefused
from kiosk_app.rpc_client import RpcCallError, RpcTimeout
from kiosk_app.runner.queue_journal import OfflineUnavailable, QueueJournal
from kiosk_app.runner.queue_lamps import QueueLamps
from kiosk_app.runner.queue_sync import QueueSync
from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.catalog_base import local_time
from madoguchi.contracts.queue import CategoryLamp, RefusalKind, TakeParams, TicketView

__all__ = ["LAMP_FRESH_S", "TicketDesk", "TicketPrinter", "TicketTaker"]

_logger = logging.getLogger(__name__)

LAMP_FRESH_S = 600  # an offline ticket shows the last lamp's numbers only when it is this recent


class TicketPrinter(Protocol):
    """The receipt printer as the desk uses it (`ReceiptOutput`; raises `DeviceError`)."""

    def print_document(self, document: Document) -> None:
        """Print one document."""


class TicketTaker(Protocol):
    """The central's `queue.take` as the desk uses it (`QueueClient`)."""

    def take(self, params: TakeParams) -> TicketView:
        """The next number (raises `QueueRefused`, `RpcCallError`, `RpcTimeout`)."""


class TicketDesk:
    """Issues and prints visit numbers for the flow's `TakeTicket` (call `take` on a runner lane)."""

    def __init__(
        self,
        catalog: Catalog,
        journal: QueueJournal | None,
        client: TicketTaker | None,
        receipt: TicketPrinter | None,
        post: Callable[[Event], None],
        *,
        lamps: QueueLamps | None = None,
        sync: QueueSync | None = None,
        link_up: Callable[[], bool] = lambda: True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.catalog = catalog
        self.journal = journal
        self.client = client
        self.receipt = receipt
        self.post = post
        self.lamps = lamps
        self.sync = sync
        self.link_up = link_up
        self.clock = clock

    def take(self, command: qe.TakeTicket) -> None:
        """Issue a number for `command.category`, print it, post the answer to the flow."""
        try:
            category = self.catalog.queue_category(command.category)
        except LookupError:
            self.post(qe.TicketRefused(RefusalKind.UNKNOWN_CATEGORY.value))
            return
        view = self._online(command)
        if isinstance(view, qe.TicketRefused):
            self.post(view)
            return
        if view is not None:
            ticket, stops = self._from_view(view, command.language)
            issued = qe.IssuedTicket(
                view.number, view.category, stops, view.people_ahead, view.wait_min_minutes,
                view.wait_max_minutes, offline=view.offline, status_token=view.status_token,
            )  # fmt: skip
            self.post(qe.TicketIssued(self._print(ticket, issued, command.language)))
            return
        if command.visit_code is not None:  # only the central can verify a visit code: never offline
            self.post(qe.TicketUnavailable("visit_code_offline"))
            return
        if self.journal is None:
            self.post(qe.TicketUnavailable("no_journal"))
            return
        try:
            offline = self.journal.issue(category.id, category.prefix, command.then)
        except OfflineUnavailable as exc:
            _logger.warning("no offline number for %s: %s", category.id, exc.reason)
            self.post(qe.TicketUnavailable(exc.reason))
            return
        lamp = self._fresh_lamp(category.id)
        stops = tuple(self._stop(c, None, None) for c in (category.counter, *command.then))
        ahead = lamp.waiting if lamp is not None else None
        low = lamp.wait_min_minutes if lamp is not None else None
        high = lamp.wait_max_minutes if lamp is not None else None
        ticket = VisitTicket(
            number=offline.number,
            category=category.names.text(command.language),
            category_ja=category.names.text("ja"),
            stops=tuple(self._visit_stop(stop, command.language) for stop in stops),
            issued_at=local_time(datetime.fromtimestamp(offline.issued_ms / 1000, UTC)),
            people_ahead=ahead,
            wait_min_minutes=low,
            wait_max_minutes=high,
            status_url=offline.status_url,
            offline=True,
        )
        issued = qe.IssuedTicket(offline.number, category.id, stops, ahead, low, high, offline=True)
        result = self._print(ticket, issued, command.language)
        if result.printed:
            self.journal.mark_printed(offline.day, offline.number)
        self.post(qe.TicketIssued(result))

    # --- online ----------------------------------------------------------------------------------------

    def _online(self, command: qe.TakeTicket) -> TicketView | qe.TicketRefused | None:
        """The central's ticket, its refusal, or None when it cannot be reached (or serves no numbers)."""
        if self.client is None or not self.link_up():
            return None
        try:
            params = TakeParams(
                category=command.category,
                language=command.language,
                then=list(command.then),
                visit_code=command.visit_code,
            )
            view = self.client.take(params)
        except QueueRefused as exc:
            refusal = exc.refusal
            kind = refusal.kind if refusal.kind in set(RefusalKind) else RefusalKind.INVALID.value
            _logger.info("queue.take refused: %s", refusal.kind)
            return qe.TicketRefused(kind, refusal.message)
        except RpcTimeout:
            _logger.warning("queue.take: the central did not answer; issuing offline")
            return None
        except RpcCallError as exc:
            _logger.warning("queue.take failed (%s); issuing offline", exc.code.value)
            return None
        if self.journal is not None:
            self.journal.learn_status_url(view.status_url, view.status_token)
        if self.sync is not None:
            self.sync.wake()  # the central answers: hand over what was issued offline
        return view

    def _from_view(self, view: TicketView, lang: str) -> tuple[VisitTicket, tuple[qe.TicketStop, ...]]:
        stops = tuple(self._stop(s.counter, s.floor, s.number) for s in view.counters)
        try:
            names = self.catalog.queue_category(view.category).names
            category, category_ja = names.text(lang), names.text("ja")
        except LookupError:
            category = category_ja = view.category
        ticket = VisitTicket(
            number=view.number,
            category=category,
            category_ja=category_ja,
            stops=tuple(self._visit_stop(s, lang) for s in stops),
            issued_at=local_time(datetime.fromtimestamp(view.issued_at / 1000, UTC)),
            people_ahead=view.people_ahead,
            wait_min_minutes=view.wait_min_minutes,
            wait_max_minutes=view.wait_max_minutes,
            status_url=view.status_url,
            offline=view.offline,
        )
        return ticket, stops

    # --- shared ----------------------------------------------------------------------------------------

    def _stop(self, counter_id: str, floor: int | None, number: str | None) -> qe.TicketStop:
        """A counter of the visit, its floor and number from the catalog unless the central said."""
        try:
            counter = self.catalog.counter(counter_id)
        except LookupError:
            return qe.TicketStop(counter_id, floor, number)
        return qe.TicketStop(
            counter_id, floor if floor is not None else counter.floor, number or counter.number
        )

    def _visit_stop(self, stop: qe.TicketStop, lang: str) -> VisitStop:
        try:
            names = self.catalog.counter(stop.counter).names
            name, name_ja = names.text(lang), names.text("ja")
        except LookupError:
            name = name_ja = stop.counter
        return VisitStop(name, name_ja, stop.floor, stop.number)

    def _fresh_lamp(self, category: str) -> CategoryLamp | None:
        if self.lamps is None:
            return None
        view = self.lamps.view
        if view is None or self.clock() * 1000 - view.at > LAMP_FRESH_S * 1000:
            return None
        return self.lamps.lamp(category)

    def _print(self, ticket: VisitTicket, issued: qe.IssuedTicket, lang: str) -> qe.IssuedTicket:
        """Print; the issued ticket with `printed` False and the problem when the printer failed."""
        if self.receipt is None:
            return _unprinted(issued, "not_configured")
        try:
            self.receipt.print_document(visit_ticket_document(ticket, lang))
        except DeviceError as exc:
            _logger.error("ticket %s not printed: %s", ticket.number, exc.code)
            return _unprinted(issued, exc.code)
        return issued


def _unprinted(issued: qe.IssuedTicket, problem: str) -> qe.IssuedTicket:
    return qe.IssuedTicket(
        issued.number, issued.category, issued.stops, issued.people_ahead, issued.wait_min_minutes,
        issued.wait_max_minutes, issued.offline, printed=False, print_problem=problem,
        status_token=issued.status_token,
    )  # fmt: skip
