"""`FakeRunner`: answers the flows' commands like healthy devices and a reachable central, in-process.

For previews, the autopilot tests and screenshots without pcscd, the payment simulator or the central:
every answer is posted to the controller's queue and handled at its next `drain()`. The real runner
(drivers + central RPC) replaces it in `kiosk run`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from kiosk_app.flows import commands as cmd
from kiosk_app.flows import events as ev
from kiosk_app.flows import guide_events as ge
from kiosk_app.flows import queue_events as qe
from kiosk_app.flows.core import Command, Event
from kiosk_app.flows.guide_plan import phone_link
from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.catalog_base import NoFeeInForce, tokyo
from madoguchi.contracts.issuance import Offer, OptionsResult

__all__ = ["FakeRunner", "offers_from_catalog"]

_logger = logging.getLogger(__name__)

PREVIEW_BASE = "https://madoguchi.example.jp"  # the guide's phone links in previews (no central)


def offers_from_catalog(catalog: Catalog, at: datetime, language: str = "ja") -> OptionsResult:
    """Every certificate type with a kiosk fee in force at `at`, as the central would offer it."""
    offers = []
    for cert in catalog.certificate_types:
        try:
            fee = cert.fee_for(at)
        except NoFeeInForce:
            continue
        offers.append(
            Offer(
                type_id=cert.id,
                name=cert.names.text(language),
                fee_yen=fee.amount_yen,
                max_copies=cert.max_copies,
                options={o.id: [c.id for c in o.choices] for o in cert.options},
                defaults=cert.default_choices(),
            )
        )
    return OptionsResult(offers=offers, refused=[])


class FakeRunner:
    """Healthy devices: a card with PIN `pin` and 3 tries, an approving terminal, a printer with paper."""

    def __init__(self, catalog: Catalog, *, pin: str = "1234", name: str = "見本 花子") -> None:
        self.catalog = catalog
        self.pin = pin
        self.name = name
        self.tries = 3
        self.executed: list[Command] = []
        self.post: Callable[[Event], None] = _no_controller
        self.numbers: dict[str, int] = {}

    def attach(self, post: Callable[[Event], None]) -> None:
        """Where answers go (the controller's `post`)."""
        self.post = post

    def execute(self, command: Command) -> None:
        """Answer one command (posting events)."""
        self.executed.append(command)
        post = self.post
        if isinstance(command, cmd.ReadCardTries):
            post(ev.PinTriesRead(self.tries))
        elif isinstance(command, cmd.VerifyPinAndAuthenticate):
            if command.pin == self.pin:
                self.tries = 3
                post(ev.AuthOk(self.name))
            else:
                self.tries -= 1
                post(ev.AuthFailed(self.tries))
        elif isinstance(command, cmd.RequestOptions):
            post(
                ev.OptionsReceived(offers_from_catalog(self.catalog, datetime.now(tokyo()), command.language))
            )
        elif isinstance(command, cmd.CheckPrinter):
            post(ev.PrinterReady())
        elif isinstance(command, cmd.StartPayment):
            for phase in ("WAIT_CARD", "AUTHORIZING"):
                post(ev.PaymentProgress(phase))
            post(ev.PaymentApproved(command.ref))
        elif isinstance(command, cmd.PrintDocument):
            post(ev.PrintProgress(command.copies, command.copies))
            post(ev.PrintDone())
        elif isinstance(command, cmd.LookupOrder):
            post(ev.OrderFound(self._order(command.code)))
        elif isinstance(command, cmd.PrintReceipt):
            post(ev.PrintDone())
        elif isinstance(command, qe.TakeTicket):
            post(qe.TicketIssued(self._ticket(command.category)))
        elif isinstance(command, ge.PrintGuideList):
            post(ev.PrintDone())
        elif isinstance(command, ge.MakePhoneLink):
            link = phone_link(
                PREVIEW_BASE, command.events, command.answers, command.language, self.catalog.version
            )
            post(ge.PhoneLinkReady(link))

    def _ticket(self, category_id: str) -> qe.IssuedTicket:
        """The next number of the category, waiting at its counter (floor from the catalog)."""
        category = self.catalog.queue_category(category_id)
        counter = self.catalog.counter(category.counter)
        n = self.numbers[category.prefix] = self.numbers.get(category.prefix, 0) + 1
        stop = qe.TicketStop(counter.id, counter.floor, counter.number)
        return qe.IssuedTicket(f"{category.prefix}-{n}", category.id, (stop,), 2, 5, 15)

    def _order(self, code: str) -> ev.Order:
        item = self.catalog.fee_items[0]
        price = self.catalog.fee_item_price(item.id, datetime.now(tokyo())).amount_yen
        line = ev.OrderLine(item.id, item.names.text("ja"), 1, price)
        return ev.Order(order_id=f"order-{code}", lines=(line,), total_yen=price, methods=tuple(item.methods))


def _no_controller(event: Event) -> None:
    raise RuntimeError("FakeRunner.attach(controller.post) first")
