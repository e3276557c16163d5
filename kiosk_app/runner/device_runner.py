"""`DeviceRunner`: the flows' commands on the real card reader, printers, payment terminal and central.

Every command is turned into work on a lane (never on the UI loop) and every result comes back as a flow
event through `post` (the controller's queue). Device and central errors are translated here, at the
boundary, into the events the flows know (`CardUnreadable`, `CentralUnreachable`, `PrintFailed` ...).

What the runner keeps per session (the issuance session, the paid amount, the document serial) is
forgotten on `WipeSession`; the certificate's bytes are wiped as soon as they are printed or refused.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from device_drivers.errors import DeviceError
from device_drivers.payment.driver import PaymentTerminal
from device_drivers.payment.errors import PaymentError
from device_drivers.payment.messages import Method
from device_drivers.payment.records import PaymentProgress, PaymentRecord
from device_drivers.printer.document import Document
from device_drivers.scanner.reader import Scanner
from kiosk_app.agent.staff_calls import StaffCalls
from kiosk_app.agent.telemetry import Telemetry
from kiosk_app.flows import commands as cmd
from kiosk_app.flows import events as ev
from kiosk_app.flows import queue_events as qe
from kiosk_app.flows.core import Command, Event
from kiosk_app.issuance_client import IssuanceClient
from kiosk_app.orders_client import OrdersClient
from kiosk_app.rpc_client import RpcCallError, RpcTimeout
from kiosk_app.runner.card_slot import CardSlot
from kiosk_app.runner.certificate_jobs import CertificateJobs
from kiosk_app.runner.guide_desk import GUIDE_COMMANDS, GuideDesk
from kiosk_app.runner.lanes import Lane
from kiosk_app.runner.order_reports import OrderReport, OrderReports
from kiosk_app.runner.outputs import A4Output, ReceiptOutput
from kiosk_app.runner.prefill_client import PrefillClient
from kiosk_app.runner.prefill_jobs import PREFILL_COMMANDS, PrefillJobs
from kiosk_app.runner.queue_parts import QueueParts
from kiosk_app.runner.receipts import order_receipt
from kiosk_app.runner.sound import CuePlayer
from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.messages import Severity
from madoguchi.contracts.orders import PaidOutcome, parse_slip
from madoguchi.contracts.rpc import RpcErrorCode
from madoguchi.contracts.signed import CommandOp

__all__ = ["DeviceRunner", "RunnerParts"]

_logger = logging.getLogger(__name__)

_TERMINAL_METHODS = {"credit": Method.CREDIT, "emoney": Method.EMONEY, "qr": Method.QR}
_NOT_FOUND = {
    RpcErrorCode.NOT_FOUND: "not_found",
    RpcErrorCode.CONFLICT: "already_paid",
    RpcErrorCode.INVALID_ARGUMENT: "not_found",
}


@dataclass
class RunnerParts:
    """The devices and services one kiosk runs on (any may be None when not configured)."""

    catalog: Catalog
    card: CardSlot
    a4: A4Output
    receipt: ReceiptOutput | None
    terminal: PaymentTerminal | None
    issuance: IssuanceClient | None
    orders: OrdersClient | None
    telemetry: Telemetry | None = None
    scanner: Scanner | None = None
    order_reports: OrderReports | None = None
    sound: CuePlayer | None = None
    language: str = "ja"
    staff_calls: StaffCalls | None = None
    queue: QueueParts | None = None
    prefill: PrefillClient | None = None  # 書かない窓口: attach card data to a visit (None: print only)


@dataclass
class _Sale:
    """A payment the terminal ran for a flow reference."""

    record: PaymentRecord
    order_code: str | None = None
    order_lines: tuple[ev.OrderLine, ...] = field(default_factory=tuple)


class DeviceRunner:
    """Executes the commands of both flows; `attach(controller.post)`, then `start()`."""

    def __init__(self, parts: RunnerParts) -> None:
        self.parts = parts
        self.post: Callable[[Event], None] = _no_controller
        self.work = Lane("devices")
        self.pay = Lane("payment")
        self.certificates: CertificateJobs | None = None
        self.guide: GuideDesk | None = None
        self.prefill: PrefillJobs | None = None
        self._sales: dict[str, _Sale] = {}
        self._orders: dict[str, ev.Order] = {}
        self._lock = threading.Lock()
        self.executed: list[str] = []  # command names, for diagnostics (never their contents)
        if parts.order_reports is not None:
            parts.order_reports.on_refused = self._order_report_refused

    def attach(self, post: Callable[[Event], None]) -> None:
        """Where events go (the controller's `post`)."""
        self.post = post
        self.certificates = CertificateJobs(self.parts, post)
        queue = self.parts.queue
        self.guide = GuideDesk(
            self.parts.catalog,
            self.parts.receipt,
            post,
            (lambda: "") if queue is None else queue.journal.status_url_base,
        )
        self.prefill = PrefillJobs(
            self.parts.catalog, self.parts.card, self.parts.a4, self.parts.prefill, post
        )
        if self.parts.queue is not None:
            self.parts.queue.attach(self.parts.catalog, self.parts.receipt, post)
        if self.parts.staff_calls is not None:
            self.parts.staff_calls.add_listener(
                lambda call_id, op: post(ev.StaffCallAnswered(call_id, op is CommandOp.STAFF_CALL_ACK))
            )

    def start(self) -> None:
        """Start the lanes and the card slot; say whether certificate issuance is available."""
        self.work.start()
        self.pay.start()
        self.parts.card.start(self.post)
        if self.parts.scanner is not None:
            self.parts.scanner.start(lambda text: self.post(ev.SlipScanned(text)))
        if self.parts.order_reports is not None:
            self.parts.order_reports.start()
        if self.parts.queue is not None:
            self.parts.queue.start()
        self.post(ev.ServiceStatus(central_online=self.parts.issuance is not None))

    def stop(self) -> None:
        """Stop watching the card and finish queued work."""
        self.parts.card.stop()
        if self.parts.sound is not None:
            self.parts.sound.stop_alarm()
        if self.parts.scanner is not None:
            self.parts.scanner.stop()
        self.pay.stop()
        self.work.stop()
        if self.parts.order_reports is not None:
            self.parts.order_reports.stop()
        if self.parts.queue is not None:
            self.parts.queue.stop()
        if self.parts.receipt is not None:
            self.parts.receipt.close()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until both lanes are idle."""
        return self.work.wait_idle(timeout) and self.pay.wait_idle(timeout)

    # --- dispatch -----------------------------------------------------------------------------------

    def execute(self, command: Command) -> None:
        """Start executing one command (returns at once)."""
        self.executed.append(type(command).__name__)
        certs = self.certificates
        if certs is None:
            raise RuntimeError("DeviceRunner.attach(controller.post) first")
        if isinstance(command, cmd.AbortPayment):
            if self.parts.terminal is not None:
                self.parts.terminal.abort()
        elif isinstance(command, cmd.StartPayment):
            self.pay.submit(lambda: self._sale(command))
        elif isinstance(command, (cmd.StartAlarm, cmd.StopAlarm, cmd.PlayCue)):
            self._sound(command)
        elif isinstance(command, (cmd.CallStaffCommand, cmd.CancelStaffCallCommand)):
            self._staff_call(command)
        elif isinstance(command, cmd.EmitStatistic):
            self._statistic(command)
        elif isinstance(command, cmd.CheckPrinter):
            self.work.submit(lambda: self._check_printer(command.printer))
        elif isinstance(command, cmd.LookupOrder):
            self.work.submit(lambda: self._lookup(command.code))
        elif isinstance(command, cmd.MarkOrderPaid):
            self.work.submit(lambda: self._mark_paid(command))
        elif isinstance(command, cmd.PrintReceipt):
            self.work.submit(lambda: self._print_receipt(command))
        elif isinstance(command, cmd.PrintDocument):
            sale = self._sales.get(command.payment_ref)
            self.work.submit(lambda: certs.print_document(command, None if sale is None else sale.record))
        elif isinstance(command, PREFILL_COMMANDS) and self.prefill is not None:
            prefill = self.prefill
            self.work.submit(lambda: prefill.execute(command))
        elif isinstance(command, qe.TakeTicket):
            self.work.submit(lambda: self._take_ticket(command))
        elif isinstance(command, GUIDE_COMMANDS) and self.guide is not None:
            guide = self.guide
            self.work.submit(lambda: guide.execute(command))
        elif isinstance(command, cmd.WipeSession):
            self.work.submit(lambda: self._wipe(command.session_ref))
        else:
            self.work.submit(lambda: certs.execute(command))

    # --- payment ------------------------------------------------------------------------------------

    def _sale(self, command: cmd.StartPayment) -> None:
        terminal = self.parts.terminal
        method = _TERMINAL_METHODS.get(self._method_kind(command.method_id))
        if terminal is None or method is None:
            _logger.error("no payment terminal for method %s", command.method_id)
            self.post(ev.PaymentDeclined("terminal_unavailable"))
            return

        def progress(event: object) -> None:
            if isinstance(event, PaymentProgress):
                self.post(ev.PaymentProgress(event.phase.value))

        try:
            record = terminal.sale(command.ref, command.amount_yen, method, on_event=progress)
        except (PaymentError, DeviceError) as exc:
            _logger.warning(
                "payment %s not started: %s", command.ref, getattr(exc, "code", type(exc).__name__)
            )
            self.post(ev.PaymentDeclined("terminal_unavailable"))
            return
        lines = self._orders[command.order_id].lines if command.order_id in self._orders else ()
        with self._lock:
            self._sales[command.ref] = _Sale(record, command.order_id, lines)
        if record.paid:
            if command.order_id is None and self.certificates is not None:
                self.certificates.last_paid_ref = record.ref
            self.post(ev.PaymentApproved(command.ref))
        elif record.needs_staff:
            self._payment_unknown(command, record)
            self.post(ev.PaymentUnknown())
        else:
            self.post(ev.PaymentDeclined(record.result.value.lower() if record.result else "declined"))

    def _payment_unknown(self, command: cmd.StartPayment, record: PaymentRecord) -> None:
        """Staff must find out whether money moved: the order goes UNKNOWN, or an incident is opened."""
        if command.order_id is not None and self.parts.orders is not None:
            self.work.submit(
                lambda: self._report_order(
                    command.order_id or "", PaidOutcome.UNKNOWN, command.method_id, record
                )
            )
        elif self.certificates is not None:
            certs = self.certificates
            self.work.submit(lambda: certs.payment_unknown(record.ref))

    def _method_kind(self, method_id: str) -> str:
        for method in self.parts.catalog.payment.methods:
            if method.id == method_id:
                return str(method.kind)
        return method_id

    # --- register -----------------------------------------------------------------------------------

    def _lookup(self, typed: str) -> None:
        orders = self.parts.orders
        if orders is None:
            self.post(ev.CentralUnreachable())
            return
        text = typed.strip()
        code = text if text.upper().startswith(("P", "MDG1:")) else f"P{text}"
        try:
            view = orders.lookup(parse_slip(code))
        except RpcCallError as exc:
            self.post(ev.OrderNotFound(_NOT_FOUND.get(exc.code, "not_found")))
            return
        except RpcTimeout:
            self.post(ev.CentralUnreachable())
            return
        except ValueError:  # ContractError: not an order code (a typing error)
            self.post(ev.OrderNotFound("not_found"))
            return
        lines = tuple(
            ev.OrderLine(i.item_id, i.name, i.quantity, i.quantity * i.unit_price_yen) for i in view.items
        )
        order = ev.Order(view.order_code, lines, view.total_yen, tuple(view.methods))
        self._orders[order.order_id] = order
        self.post(ev.OrderFound(order))

    def _mark_paid(self, command: cmd.MarkOrderPaid) -> None:
        sale = self._sales.get(command.payment_ref)
        if sale is None:
            _logger.error("order paid without a journaled sale (ref %s)", command.payment_ref)
            return
        self._report_order(command.order_id, PaidOutcome.PAID, command.method_id, sale.record)

    def _report_order(
        self, order_code: str, outcome: PaidOutcome, method: str, record: PaymentRecord
    ) -> None:
        """Tell the central; the report is journaled first and sent again until the central has it."""
        item = OrderReport(order_code, outcome, method, record.amount, record.txn_id or record.ref)
        if self.parts.order_reports is None:
            self._order_report_refused(item, "this kiosk keeps no order report journal")
            return
        self.parts.order_reports.report(item)

    def _order_report_refused(self, item: OrderReport, why: str) -> None:
        """A report the central refused (or that cannot be kept): a retained alert for staff."""
        _logger.error("order %s: %s report not recorded centrally", item.order_code, item.outcome.value)
        if self.parts.telemetry is not None:
            self.parts.telemetry.raise_alert(
                f"order-{item.order_code.lower()}",  # alert ids are lower case
                "order_report_refused",
                Severity.WARNING,
                f"order {item.order_code} {item.outcome.value} by {item.method}, slip {item.slip_no}: {why}"[
                    :500
                ],
            )

    def _print_receipt(self, command: cmd.PrintReceipt) -> None:
        sale = self._sales.get(command.payment_ref)
        order = self._orders.get(command.order_id)
        receipt = self.parts.receipt
        if sale is None or order is None or receipt is None:
            self.post(ev.PrintFailed("no_receipt_printer" if receipt is None else "unknown_sale"))
            return
        document = order_receipt(self.parts.catalog, order, sale.record, command.method_id)
        self._print_on_receipt(document)

    def _print_on_receipt(self, document: Document) -> None:
        receipt = self.parts.receipt
        assert receipt is not None
        try:
            receipt.print_document(document)
        except DeviceError as exc:
            self.post(ev.PrintFailed(exc.code))
            return
        self.post(ev.PrintDone())

    def _take_ticket(self, command: qe.TakeTicket) -> None:
        desk = None if self.parts.queue is None else self.parts.queue.desk
        if desk is None:
            self.post(qe.TicketUnavailable("not_configured"))
            return
        desk.take(command)

    # --- printers, sound, staff, statistics ----------------------------------------------------------

    def _check_printer(self, which: str) -> None:
        try:
            if which == "a4":
                problem = self.parts.a4.problem()
            elif self.parts.receipt is not None:
                problem = self.parts.receipt.problem()
            else:
                problem = "not_configured"
        except DeviceError as exc:
            problem = exc.code
        self.post(ev.PrinterReady() if problem is None else ev.PrinterNotReady(problem))

    def _sound(self, command: Command) -> None:
        sound = self.parts.sound
        if sound is None:
            return
        if isinstance(command, cmd.PlayCue):
            sound.play(command.cue)
        elif isinstance(command, cmd.StartAlarm):
            sound.start_alarm()
        else:
            sound.stop_alarm()

    def _staff_call(self, command: cmd.CallStaffCommand | cmd.CancelStaffCallCommand) -> None:
        """`up/staff_call` for the staff's live list, and the device event history as before."""
        cancelled = isinstance(command, cmd.CancelStaffCallCommand)
        code = "staff_call_cancelled" if cancelled else "staff_call"
        _logger.warning("%s at %s: %s", code, command.step, command.reason)
        calls = self.parts.staff_calls
        if calls is not None and command.call_id:
            send = calls.cancel if cancelled else calls.call
            if not send(command.call_id, command.step, command.reason):
                _logger.error("staff call %s could not be queued for the centre", command.call_id)
        if self.parts.telemetry is not None:
            self.parts.telemetry.emit_event(
                code, Severity.INFO if cancelled else Severity.WARNING, f"{command.step}: {command.reason}"
            )

    def _statistic(self, command: cmd.EmitStatistic) -> None:
        if self.parts.telemetry is None:
            _logger.info("statistic %s not kept: no fleet link", command.stats.kind)
            return
        self.parts.telemetry.emit_statistic(command.stats.kind, **command.stats.fields())

    def _wipe(self, session_ref: str) -> None:
        if self.certificates is not None:
            self.certificates.wipe(session_ref)
        with self._lock:
            for ref in [r for r, s in self._sales.items() if s.record.paid or s.record.definite]:
                self._sales.pop(ref, None)
        self._orders.clear()


def _no_controller(_event: Event) -> None:
    raise RuntimeError("DeviceRunner.attach(controller.post) first")
