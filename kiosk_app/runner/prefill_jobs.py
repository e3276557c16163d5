"""`PrefillJobs`: the 書かない窓口 commands on the card reader, the A4 printer and the central.

Runs on the runner's device lane (one command at a time, in order). The basic four read from the card are
held here only, per session reference, until `WipePrefill` (the flow sends it when the session ends, or at
once when the card leaves before the read finished); they go to the A4 printer or to the central's
`prefill.attach`, never to a log, the statistics or an event. The PIN is wiped by the driver.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from device_drivers.card.errors import PinBlocked, PinIncorrect, PinLastTry
from device_drivers.card.kenhojo import BasicFour
from device_drivers.card.pin import Pin
from device_drivers.errors import CardError, DeviceError
from device_drivers.printer.a4.prefill_form import render_prefilled_forms
from kiosk_app.flows import events as ev
from kiosk_app.flows import prefill_events as pe
from kiosk_app.flows.core import Command, Event
from kiosk_app.flows.session import mask_name
from kiosk_app.rpc_client import RpcCallError, RpcTimeout
from kiosk_app.runner.card_slot import CardSlot
from kiosk_app.runner.outputs import A4Output
from kiosk_app.runner.prefill_client import PrefillClient
from kiosk_app.runner.prefill_forms import build_forms
from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.catalog_base import tokyo
from madoguchi.contracts.prefill import AttachParams, PrefillFields
from madoguchi.contracts.rpc import RpcErrorCode

__all__ = ["PREFILL_COMMANDS", "PrefillJobs"]

_logger = logging.getLogger(__name__)

PREFILL_COMMANDS = (
    pe.ReadKenhojoTries,
    pe.ReadBasicFour,
    pe.PrintPrefillForms,
    pe.AttachPrefill,
    pe.WipePrefill,
)


class PrefillJobs:
    """Executes the prefill commands; results go to `post` as flow events."""

    def __init__(
        self,
        catalog: Catalog,
        card: CardSlot,
        a4: A4Output | None,
        client: PrefillClient | None,
        post: Callable[[Event], None],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.catalog = catalog
        self.card = card
        self.a4 = a4
        self.client = client
        self.post = post
        self._clock = clock
        self._held: dict[str, BasicFour] = {}
        self._lock = threading.Lock()

    @property
    def holding(self) -> int:
        """How many sessions' card data are held (0 between residents; for tests and diagnostics)."""
        with self._lock:
            return len(self._held)

    def execute(self, command: Command) -> None:
        """Run one prefill command (on the device lane)."""
        if isinstance(command, pe.ReadKenhojoTries):
            self._tries()
        elif isinstance(command, pe.ReadBasicFour):
            self._read(command)
        elif isinstance(command, pe.PrintPrefillForms):
            self._print(command)
        elif isinstance(command, pe.AttachPrefill):
            self._attach(command)
        elif isinstance(command, pe.WipePrefill):
            self.wipe(command.ref)

    def wipe(self, ref: str) -> None:
        """Forget the card data of session `ref`."""
        with self._lock:
            gone = self._held.pop(ref, None)
        if gone is not None:
            _logger.info("prefill session data wiped")

    def _tries(self) -> None:
        try:
            with self.card.open() as session:
                tries = session.kenhojo_tries_left()
        except (CardError, DeviceError) as exc:
            self.post(ev.CardUnreadable(exc.code))
            return
        self.post(pe.KenhojoTriesRead(tries))

    def _read(self, command: pe.ReadBasicFour) -> None:
        pin = Pin(bytearray(command.pin.encode("ascii")))
        try:
            with pin, self.card.open() as session:
                basic = session.read_basic_four(pin)
        except PinIncorrect as exc:
            self.post(pe.KenhojoPinWrong(exc.tries_left))
            return
        except (PinBlocked, PinLastTry):
            self.post(pe.KenhojoLocked())
            return
        except (CardError, DeviceError) as exc:
            # Pulled mid-read or unreadable: nothing was kept (no partial fields exist: one EF read).
            self.post(ev.CardUnreadable(exc.code))
            return
        with self._lock:
            self._held[command.ref] = basic
        self.post(pe.BasicFourRead(mask_name(basic.name)))

    def _basic(self, ref: str) -> BasicFour | None:
        with self._lock:
            return self._held.get(ref)

    def _print(self, command: pe.PrintPrefillForms) -> None:
        basic = self._basic(command.ref)
        if basic is None or self.a4 is None:
            self.post(ev.PrintFailed("not_issued" if basic is None else "not_configured"))
            return
        today = datetime.fromtimestamp(self._clock(), UTC).astimezone(tokyo()).date()
        forms = build_forms(self.catalog, command.procedures, basic, command.language, today)
        try:
            if not forms:
                raise ValueError("no procedure with a form")
            pdf = render_prefilled_forms(forms)
            problem = self.a4.problem()
            if problem is not None:
                self.post(ev.PrintFailed(problem))
                return
            self.a4.print_pdf(pdf, 1, "forms")
        except DeviceError as exc:  # GlyphMissing included: refuse rather than drop a character
            self.post(ev.PrintFailed(exc.code))
            return
        except ValueError:  # none of the procedures has a form in this catalog
            self.post(ev.PrintFailed("not_issued"))
            return
        self.post(ev.PrintDone())

    def _attach(self, command: pe.AttachPrefill) -> None:
        basic = self._basic(command.ref)
        if basic is None or self.client is None or not command.status_token:
            self.post(pe.PrefillAttachFailed("unavailable" if self.client is None else "invalid"))
            return
        fields = PrefillFields.model_validate(
            {"name": basic.name, "address": basic.address, "birth_date": basic.birth_date, "sex": basic.sex}
        )
        params = AttachParams(
            status_token=command.status_token, procedures=list(command.procedures), fields=fields
        )
        try:
            view = self.client.attach(params)
        except RpcCallError as exc:
            reason = "no_visit" if exc.code is RpcErrorCode.NOT_FOUND else "invalid"
            _logger.warning("prefill.attach refused: %s", exc.code.value)
            self.post(pe.PrefillAttachFailed(reason))
            return
        except RpcTimeout:
            self.post(pe.PrefillAttachFailed("unavailable"))
            return
        self.post(pe.PrefillAttached(view.number))
