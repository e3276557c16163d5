"""`CertificateFlow`: the certificate self-issuance flow a kiosk screen observes and a runner feeds.

Feed every event through `handle()` (from one queue, on one thread) and execute the returned
commands; read `view()` to draw the current screen. Nothing here touches a device or Kivy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from kiosk_app.flows.clock import Clock
from kiosk_app.flows.core import Command, Event, Machine
from kiosk_app.flows.issuance_context import IssuanceContext, IssuanceSettings, Step, new_ref
from kiosk_app.flows.issuance_table import build_spec
from kiosk_app.flows.session import IssuanceSession, mask_name
from kiosk_app.flows.staff_call import handle_calling_staff
from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.catalog_base import Channel
from madoguchi.contracts.issuance import Offer, Refusal

__all__ = ["CertificateFlow", "IssuanceView", "settings_from_catalog"]

_logger = logging.getLogger(__name__)


def settings_from_catalog(
    catalog: Catalog, *, idle_timeout_s: float = 60.0, language: str = "ja"
) -> IssuanceSettings:
    """Flow settings from the catalog's kiosk payment methods and the `[ui]` idle timeout and language."""
    methods = tuple(m.id for m in catalog.payment.methods_for(Channel.KIOSK))
    return IssuanceSettings(methods=methods, idle_timeout_s=idle_timeout_s, default_language=language)


@dataclass(frozen=True)
class IssuanceView:
    """What the screen of the current step shows; never the PIN digits or the full name."""

    step: Step
    language: str
    time_left: float | None
    pin_length: int = 0
    pin_digits: int = 4
    tries_left: int | None = None
    last_try: bool = False
    pin_error: bool = False
    masked_name: str = ""
    offers: tuple[Offer, ...] = ()
    refused: tuple[Refusal, ...] = ()
    type_id: str | None = None
    choices: tuple[tuple[str, str], ...] = ()
    copies: int = 1
    max_copies: int = 1
    fee_yen: int = 0
    methods: tuple[str, ...] = ()
    method_id: str | None = None
    payment_phase: str = ""
    printed_pages: tuple[int, int] = (0, 0)
    can_reprint: bool = False
    problem: str = ""
    refusal: Refusal | None = None
    interrupted: Step | None = None
    central_online: bool = True


class CertificateFlow:
    """The certificate flow for one kiosk: one resident at a time, state kept by session reference."""

    def __init__(
        self, settings: IssuanceSettings, clock: Clock, *, make_ref: Callable[[], str] = new_ref
    ) -> None:
        self.context = IssuanceContext(
            settings=settings, make_ref=make_ref, language=settings.default_language
        )
        self.machine: Machine[Step, IssuanceContext] = Machine(build_spec(), self.context, clock)

    @property
    def step(self) -> Step:
        """The current step."""
        return self.machine.state

    @property
    def session(self) -> IssuanceSession | None:
        """The session in progress (None between residents)."""
        return self.context.session

    def handle(self, event: Event) -> list[Command]:
        """Process one event; return the commands for the runner, in order."""
        step = self.machine.state
        commands = handle_calling_staff(self.machine, event)
        if commands:
            _logger.debug(
                "%s in %s -> %s", type(event).__name__, step.value, [type(c).__name__ for c in commands]
            )
        return commands

    def view(self) -> IssuanceView:
        """A snapshot for the screen."""
        c = self.context
        base = IssuanceView(
            step=self.machine.state,
            language=c.language,
            time_left=self.machine.time_left(),
            methods=c.settings.methods,
            pin_digits=c.settings.pin_length,
            interrupted=self.machine.interrupted,
            central_online=c.central_online,
        )
        s = c.session
        if s is None:
            return base
        offer = s.offer
        return IssuanceView(
            step=base.step,
            language=base.language,
            time_left=base.time_left,
            pin_length=len(s.pin),
            pin_digits=c.settings.pin_length,
            tries_left=s.tries_left,
            last_try=s.tries_left == 1,
            pin_error=s.pin_error,
            masked_name=mask_name(s.name),
            offers=s.offers,
            refused=s.refused,
            type_id=s.type_id,
            choices=tuple(sorted(s.choices.items())),
            copies=s.copies,
            max_copies=offer.max_copies if offer is not None else 1,
            fee_yen=s.fee_yen,
            methods=base.methods,
            method_id=s.method_id,
            payment_phase=s.payment_phase,
            printed_pages=s.printed_pages,
            can_reprint=s.reprints < c.settings.max_reprints,
            problem=s.problem,
            refusal=s.refusal,
            interrupted=base.interrupted,
            central_online=c.central_online,
        )
