"""`GuideDesk`: the runner's part of the procedure guide — print the list, make the phone link.

The result is recomputed here from the catalog with `ProcedureGuide.results` (the command carries only life
events and answers). The phone link needs the central's public address: this kiosk learns it from the
ticket status page address (`<public base>/q/…`, learnt from an online ticket or `[queue] status_url_base`);
without one the link is empty and the screen says so. Printer errors come back as `PrintFailed`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from device_drivers.errors import DeviceError
from device_drivers.printer.guide_list import guide_list_document
from kiosk_app.flows import events as ev
from kiosk_app.flows import guide_events as ge
from kiosk_app.flows.core import Command, Event
from kiosk_app.flows.guide_plan import phone_link, public_base_of
from kiosk_app.runner.guide_paper import guide_paper
from kiosk_app.runner.tickets import TicketPrinter
from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.catalog_base import tokyo

__all__ = ["GUIDE_COMMANDS", "GuideDesk"]

_logger = logging.getLogger(__name__)

GUIDE_COMMANDS = (ge.PrintGuideList, ge.MakePhoneLink)


class GuideDesk:
    """Executes the guide's commands (call `execute` on a runner lane)."""

    def __init__(
        self,
        catalog: Catalog,
        receipt: TicketPrinter | None,
        post: Callable[[Event], None],
        status_url_base: Callable[[], str] = lambda: "",
        now: Callable[[], datetime] = lambda: datetime.now(tokyo()),
    ) -> None:
        self.catalog = catalog
        self.receipt = receipt
        self.post = post
        self.status_url_base = status_url_base
        self.now = now

    def execute(self, command: Command) -> None:
        """Run one guide command and post its answer."""
        if isinstance(command, ge.PrintGuideList):
            self.print_list(command)
        elif isinstance(command, ge.MakePhoneLink):
            self.post(ge.PhoneLinkReady(self.link(command.events, command.answers, command.language)))

    def link(self, events: tuple[str, ...], answers: ge.Answers, language: str) -> str:
        """The phone link of a result ("" when the public address is not known yet)."""
        base = public_base_of(self.status_url_base())
        if not base:
            _logger.info("guide phone link unavailable: the central's public address is not known yet")
        return phone_link(base, events, answers, language, self.catalog.version)

    def print_list(self, command: ge.PrintGuideList) -> None:
        """Print the result in the resident's language + Japanese; `PrintDone` or `PrintFailed`."""
        if self.receipt is None:
            self.post(ev.PrintFailed("not_configured"))
            return
        items = self.catalog.procedures.results(command.events, dict(command.answers))
        url = self.link(command.events, command.answers, command.language)
        paper = guide_paper(items, command.language, url, self.now())
        try:
            self.receipt.print_document(guide_list_document(paper))
        except DeviceError as exc:
            _logger.error("guide list not printed: %s", exc.code)
            self.post(ev.PrintFailed(exc.code))
            return
        self.post(ev.PrintDone())
