"""The certificate flow's device and central work: card, issuance RPC, A4 printing, 未交付 slip.

One `_Live` per flow session holds the issuance session (nonce, bound card certificate), the serial of
the document being printed and the signed 未交付 slip after a failed print. Nothing here keeps the PIN
(it goes to the card and is wiped), the resident's name (passed on to the flow's session, which wipes it
at the end) or the certificate's bytes after printing. The only PIN VERIFYed is the auth PIN the resident
typed; the card's 券面事項入力補助 AP is never touched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from device_drivers.card.errors import PinBlocked, PinIncorrect
from device_drivers.card.pin import Pin
from device_drivers.errors import CardError, DeviceError
from device_drivers.payment.records import PaymentRecord
from kiosk_app.flows import commands as cmd
from kiosk_app.flows import events as ev
from kiosk_app.flows.core import Command, Event
from kiosk_app.issuance_client import DocumentRejected, IssuanceRefused, KioskSession
from kiosk_app.rpc_client import RpcCallError, RpcTimeout
from kiosk_app.runner.receipts import unissued_slip
from madoguchi.contracts.issuance import ConfirmOutcome, IncidentKind, Refusal

if TYPE_CHECKING:
    from kiosk_app.runner.device_runner import RunnerParts

__all__ = ["CertificateJobs"]

_logger = logging.getLogger(__name__)

_INCIDENTS = {
    "reprint_after_error": IncidentKind.PRINT_FAILED,
    "print_failed": IncidentKind.PRINT_FAILED,
    "card_left_behind": IncidentKind.CARD_LEFT,
    "paid_after_card_removed": IncidentKind.OTHER,
}


@dataclass
class _Live:
    """What the runner holds for one flow session."""

    session: KioskSession
    serial: str | None = None
    slip: str | None = None
    paid_ref: str | None = None
    reprint_until: int | None = None


class CertificateJobs:
    """Runs on the devices lane, posting flow events."""

    def __init__(self, parts: RunnerParts, post: Callable[[Event], None]) -> None:
        self.parts = parts
        self.post = post
        self.live: dict[str, _Live] = {}
        self.last_paid_ref: str | None = None  # the latest approved certificate payment (for incidents)

    def execute(self, command: Command) -> None:
        """One certificate-flow command."""
        if isinstance(command, cmd.ReadCardTries):
            self._read_tries()
        elif isinstance(command, cmd.VerifyPinAndAuthenticate):
            self._authenticate(command)
        elif isinstance(command, cmd.RequestOptions):
            self._options(command.session_ref, command.language)
        elif isinstance(command, cmd.PrepareDocument):
            self._prepare(command)
        elif isinstance(command, cmd.ConfirmDocument):
            self._confirm(command.session_ref, command.outcome)
        elif isinstance(command, cmd.PrintSlip):
            self._print_slip(command.session_ref)
        elif isinstance(command, cmd.ReportIncident):
            self._incident(command.code, command.session_ref)
        elif isinstance(command, cmd.CancelPrint):
            _logger.warning("print of session timed out; its output is voided")
        else:
            _logger.debug("command %s needs no device", type(command).__name__)

    # --- card and authentication ---------------------------------------------------------------------

    def _read_tries(self) -> None:
        try:
            with self.parts.card.open() as card:
                tries = card.auth_tries_left()
        except DeviceError as exc:
            self.post(ev.CardUnreadable(exc.code))
            return
        self.post(ev.PinTriesRead(tries))

    def _authenticate(self, command: cmd.VerifyPinAndAuthenticate) -> None:
        issuance = self.parts.issuance
        if issuance is None:
            self.post(ev.CentralUnreachable())
            return
        try:
            session = issuance.begin(command.language)
        except (RpcTimeout, RpcCallError):
            self.post(ev.CentralUnreachable())
            return
        pin = Pin(bytearray(command.pin.encode("ascii")))
        try:
            with pin, self.parts.card.open() as card:
                issuance.authenticate(session, card, pin)
        except PinIncorrect as exc:
            self.post(ev.AuthFailed(exc.tries_left))
            return
        except PinBlocked:
            self.post(ev.AuthFailed(0))
            return
        except IssuanceRefused as exc:
            self.post(ev.AuthRefused(exc.refusal))
            return
        except (CardError, DeviceError) as exc:
            self.post(ev.CardUnreadable(exc.code))
            return
        except (RpcTimeout, RpcCallError, DocumentRejected):
            self.post(ev.CentralUnreachable())
            return
        self.live[command.session_ref] = _Live(session)
        # The name the central holds for this card's resident: the card's 券面事項入力補助 AP is never
        # VERIFYed by the kiosk on its own (its PIN may differ from the auth PIN; issue 15).
        self.post(ev.AuthOk(session.take_holder_name()))

    # --- central ------------------------------------------------------------------------------------

    def _session(self, session_ref: str) -> _Live | None:
        live = self.live.get(session_ref)
        if live is None:
            _logger.error("no issuance session for this flow session")
        return live

    def _options(self, session_ref: str, language: str) -> None:
        live = self._session(session_ref)
        if live is None or self.parts.issuance is None:
            self.post(ev.CentralUnreachable())
            return
        live.session.language = language  # the resident may have changed language since the card
        try:
            self.post(ev.OptionsReceived(self.parts.issuance.options(live.session)))
        except (RpcTimeout, RpcCallError):
            self.post(ev.CentralUnreachable())

    def _prepare(self, command: cmd.PrepareDocument) -> None:
        live = self._session(command.session_ref)
        if live is None or self.parts.issuance is None:
            self.post(ev.CentralUnreachable())
            return
        try:
            self.parts.issuance.prepare(
                live.session, command.type_id, choices=dict(command.choices), copies=command.copies
            )
        except RpcTimeout:
            self.post(ev.CentralUnreachable())
        except RpcCallError as exc:
            kind, _, reason = exc.message.partition(": ")
            self.post(ev.AuthRefused(Refusal(kind=kind or exc.code.value, reason=reason or exc.message)))

    def print_document(self, command: cmd.PrintDocument, sale: PaymentRecord | None) -> None:
        """Issue the paid certificate bound to this session and print it on A4."""
        live = self._session(command.session_ref)
        issuance = self.parts.issuance
        if live is None or issuance is None or sale is None or not sale.paid:
            self.post(ev.PrintFailed("not_issued"))
            return
        live.paid_ref = sale.ref
        try:
            document = issuance.issue(
                live.session,
                command.type_id,
                payment_ref=sale.ref,
                amount_yen=sale.amount,
                choices=dict(command.choices),
                copies=command.copies,
            )
        except (RpcTimeout, RpcCallError, DocumentRejected) as exc:
            _logger.error("certificate not issued after payment %s: %s", sale.ref, type(exc).__name__)
            self.post(ev.PrintFailed("not_issued"))
            return
        live.serial = document.serial
        try:
            self.post(ev.PrintProgress(0, document.copies))
            self.parts.a4.print_pdf(document.pdf(), document.copies, document.serial)
        except DeviceError as exc:
            self.post(ev.PrintFailed(exc.code))
            return
        finally:
            document.wipe()
        self.post(ev.PrintProgress(document.copies, document.copies))
        self.post(ev.PrintDone())

    def _confirm(self, session_ref: str, outcome: str) -> None:
        live = self._session(session_ref)
        if live is None or live.serial is None or self.parts.issuance is None:
            return
        try:
            result = self.parts.issuance.confirm(live.session, live.serial, ConfirmOutcome(outcome))
        except (RpcTimeout, RpcCallError) as exc:
            _logger.error("confirming %s as %s failed: %s", live.serial, outcome, type(exc).__name__)
            return
        if result.unissued_slip:
            live.slip = result.unissued_slip
            live.reprint_until = result.reprint_until

    def _print_slip(self, session_ref: str) -> None:
        live = self.live.get(session_ref)
        receipt = self.parts.receipt
        if receipt is None:
            _logger.error("no receipt printer for the 未交付 slip")
            return
        document = unissued_slip(
            live.slip if live else None, live.paid_ref if live else None, live.reprint_until if live else None
        )
        try:
            receipt.print_document(document)
        except DeviceError as exc:
            _logger.error("未交付 slip not printed: %s", exc.code)

    def _incident(self, code: str, session_ref: str) -> None:
        live = self.live.get(session_ref)
        if self.parts.issuance is None:
            return
        try:
            self.parts.issuance.report_incident(
                _INCIDENTS.get(code, IncidentKind.OTHER),
                session=live.session if live else None,
                serial=live.serial if live else None,
                payment_ref=(live.paid_ref if live else None) or self.last_paid_ref,
                detail=code,
            )
        except (RpcTimeout, RpcCallError) as exc:
            _logger.error("incident %s not reported: %s", code, type(exc).__name__)

    def payment_unknown(self, payment_ref: str) -> None:
        """The terminal could not say whether money moved: an incident for staff (R-12)."""
        if self.parts.issuance is None:
            return
        try:
            self.parts.issuance.report_incident(IncidentKind.PAYMENT_UNKNOWN, payment_ref=payment_ref)
        except (RpcTimeout, RpcCallError) as exc:
            _logger.error("payment-unknown incident not reported: %s", type(exc).__name__)

    def wipe(self, session_ref: str) -> None:
        """Forget the session."""
        self.live.pop(session_ref, None)
