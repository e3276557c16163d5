"""The semi-self register flow (セミセルフレジ): slip or order code → items and total → method → pay → receipt.

Staff register the order at the counter; the resident scans the slip's code (or types it), checks the
items and the total fetched from the central, picks one method and pays at the terminal. The receipt
printer is checked before any money is taken; the order is marked paid with our payment reference.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kiosk_app.flows import commands as cmd
from kiosk_app.flows import events as ev
from kiosk_app.flows.clock import Clock
from kiosk_app.flows.core import RESUME, Command, Event, Machine, MachineSpec, StateSpec, TimedOut, Transition
from kiosk_app.flows.issuance_context import new_ref
from kiosk_app.flows.staff_call import handle_calling_staff
from kiosk_app.flows.stats import AbortReason, Outcome, SessionStats, StepTimes
from madoguchi.contracts.languages import DEFAULT_LANGUAGE

__all__ = ["RegisterContext", "RegisterFlow", "RegisterSettings", "RegisterStep", "RegisterView"]

_logger = logging.getLogger(__name__)

KIND = "register_session"
MAX_CODE_DIGITS = 12


class RegisterStep(enum.Enum):
    """Screens (and waits) of the register flow."""

    HOME = "home"
    SCAN = "scan"
    ENTER_CODE = "enter_code"
    LOOKING_UP = "looking_up"
    NOT_FOUND = "not_found"
    UNAVAILABLE = "unavailable"
    ORDER_SUMMARY = "order_summary"
    CHOOSE_METHOD = "choose_method"
    CHECKING_PRINTER = "checking_printer"
    PRINTER_UNAVAILABLE = "printer_unavailable"
    PAYING = "paying"
    PAYMENT_DECLINED = "payment_declined"
    PAYMENT_UNKNOWN = "payment_unknown"
    PRINTING_RECEIPT = "printing_receipt"
    RECEIPT_FAILED = "receipt_failed"
    DONE = "done"
    MORE_TIME = "more_time"


@dataclass(frozen=True)
class RegisterSettings:
    """Timeouts (seconds) and the methods this kiosk's terminal takes (catalog method ids)."""

    methods: tuple[str, ...]
    idle_timeout_s: float = 60.0
    more_time_s: float = 30.0
    notice_s: float = 30.0
    device_timeout_s: float = 20.0
    central_timeout_s: float = 20.0
    payment_timeout_s: float = 300.0
    unknown_timeout_s: float = 600.0
    print_timeout_s: float = 60.0
    done_s: float = 20.0
    language: str = DEFAULT_LANGUAGE


@dataclass
class RegisterContext:
    """One register session at a time; `order` is None before the lookup."""

    settings: RegisterSettings
    make_ref: Callable[[], str] = new_ref
    language: str = DEFAULT_LANGUAGE
    active: bool = False
    code: list[str] = field(default_factory=list)
    not_found_reason: str = ""
    order: ev.Order | None = None
    method_id: str | None = None
    payment_ref: str | None = None
    payment_phase: str = ""
    cancel_requested: bool = False
    paid: bool = False
    steps: StepTimes = field(default_factory=StepTimes)

    def methods(self) -> tuple[str, ...]:
        """Methods both the order and this kiosk accept."""
        if self.order is None:
            return ()
        return tuple(m for m in self.order.methods if m in self.settings.methods)

    def begin(self) -> None:
        """Start a fresh session."""
        self.active, self.code, self.order, self.method_id = True, [], None, None
        self.payment_ref, self.paid, self.not_found_reason = None, False, ""
        self.steps = StepTimes()

    def end(self, outcome: Outcome, reason: AbortReason | None) -> list[Command]:
        """Statistics for the session, then forget it."""
        if not self.active:
            return []
        stats = SessionStats(
            kind=KIND,
            outcome=outcome,
            language=self.language,
            step_seconds=self.steps.snapshot(),
            abort_reason=reason,
            fee_yen=self.order.total_yen if self.order is not None else None,
            items=len(self.order.lines) if self.order is not None else None,
            method=self.method_id,
        )
        self.begin()
        self.active = False
        return [cmd.EmitStatistic(stats)]


S = RegisterStep
Ctx = RegisterContext
Row = Transition[S, Ctx, Any]
IDLE = frozenset({S.SCAN, S.ENTER_CODE, S.ORDER_SUMMARY, S.CHOOSE_METHOD, S.PAYMENT_DECLINED})
NOTICES = {
    S.UNAVAILABLE: (Outcome.ABORTED, AbortReason.CENTRAL_UNREACHABLE),
    S.PRINTER_UNAVAILABLE: (Outcome.ABORTED, AbortReason.PRINTER_UNAVAILABLE),
    S.PAYMENT_UNKNOWN: (Outcome.FAILED, AbortReason.PAYMENT_UNKNOWN),
    S.RECEIPT_FAILED: (Outcome.COMPLETED, None),
    S.DONE: (Outcome.COMPLETED, None),
}
CANCELLABLE = IDLE | {S.LOOKING_UP, S.NOT_FOUND, S.CHECKING_PRINTER, S.MORE_TIME}
# Timeouts that wait for the resident (時間を延長 offered, count-down shown, R-33) and device watchdogs.
EXTENDABLE = IDLE | {S.NOT_FOUND, S.UNAVAILABLE, S.PRINTER_UNAVAILABLE, S.RECEIPT_FAILED, S.DONE, S.MORE_TIME}
DEVICE_WAITS = frozenset({S.LOOKING_UP, S.CHECKING_PRINTER, S.PAYING, S.PAYMENT_UNKNOWN, S.PRINTING_RECEIPT})
PAYMENT_WAITS = frozenset({S.PAYING, S.PAYMENT_UNKNOWN})


def _ender(outcome: Outcome, reason: AbortReason | None) -> Callable[[Ctx, object], Sequence[Command]]:
    return lambda c, e: c.end(outcome, reason)


def _lookup(c: Ctx) -> list[Command]:
    return [cmd.LookupOrder("".join(c.code))]


def _start_payment(c: Ctx) -> list[Command]:
    assert c.order is not None and c.method_id is not None
    c.payment_ref, c.payment_phase, c.cancel_requested = c.make_ref(), "", False
    return [cmd.StartPayment(c.payment_ref, c.order.total_yen, c.method_id, c.order.order_id)]


def _paid(c: Ctx) -> list[Command]:
    assert c.order is not None and c.payment_ref is not None and c.method_id is not None
    return [
        cmd.MarkOrderPaid(c.order.order_id, c.payment_ref, c.method_id),
        cmd.PrintReceipt(c.order.order_id, c.payment_ref, c.method_id),
    ]


def _abort_payment(c: Ctx, _e: object) -> list[Command]:
    c.cancel_requested = True
    return [cmd.AbortPayment(c.payment_ref)] if c.payment_ref else []


def _erase(c: Ctx, _e: object) -> None:
    c.code.pop()


def _set_code(c: Ctx, e: ev.SlipScanned) -> None:
    c.code = list(e.code.strip())


def _staff(reason: str) -> Callable[[Ctx], list[Command]]:
    return lambda c: [cmd.CallStaffCommand(reason, reason)]


def _states() -> list[StateSpec[S, Ctx]]:
    timeouts: dict[S, Callable[[Ctx], float]] = {step: (lambda c: c.settings.idle_timeout_s) for step in IDLE}
    timeouts |= {
        step: (lambda c: c.settings.notice_s) for step in (S.NOT_FOUND, S.UNAVAILABLE, S.PRINTER_UNAVAILABLE)
    }
    timeouts |= {
        S.LOOKING_UP: lambda c: c.settings.central_timeout_s,
        S.CHECKING_PRINTER: lambda c: c.settings.device_timeout_s,
        S.PAYING: lambda c: c.settings.payment_timeout_s,
        S.PAYMENT_UNKNOWN: lambda c: c.settings.unknown_timeout_s,
        S.PRINTING_RECEIPT: lambda c: c.settings.print_timeout_s,
        S.RECEIPT_FAILED: lambda c: c.settings.notice_s,
        S.DONE: lambda c: c.settings.done_s,
        S.MORE_TIME: lambda c: c.settings.more_time_s,
    }
    enter: dict[S, Callable[[Ctx], list[Command]]] = {
        S.LOOKING_UP: _lookup,
        S.CHECKING_PRINTER: lambda c: [cmd.CheckPrinter("receipt")],
        S.PRINTER_UNAVAILABLE: _staff("printer_unavailable"),
        S.PAYING: _start_payment,
        S.PAYMENT_UNKNOWN: _staff("payment_unknown"),
        S.PRINTING_RECEIPT: _paid,
        S.RECEIPT_FAILED: _staff("receipt_failed"),
        S.DONE: lambda c: [cmd.PlayCue("payment_done")],
    }
    return [
        StateSpec(
            step,
            timeouts.get(step),
            enter.get(step),
            modal=step is S.MORE_TIME,
            extendable=step in EXTENDABLE,
        )
        for step in S
    ]


def _transitions() -> list[Row]:
    code_ok = lambda c, e: 1 <= len(c.code) <= MAX_CODE_DIGITS  # noqa: E731
    rows: list[Row] = [
        Row(S.HOME, ev.Start, S.SCAN, None, lambda c, e: c.begin()),
        Row(frozenset({S.SCAN, S.ENTER_CODE}), ev.SlipScanned, S.LOOKING_UP, lambda c, e: bool(e.code.strip()), _set_code),
        Row(S.SCAN, ev.TypeCodeInstead, S.ENTER_CODE, None, lambda c, e: c.code.clear()),
        Row(S.SCAN, ev.Back, S.HOME, None, _ender(Outcome.ABORTED, AbortReason.CANCELLED)),
        Row(S.ENTER_CODE, ev.Digit, None, lambda c, e: e.digit.isdigit() and len(c.code) < MAX_CODE_DIGITS,
            lambda c, e: c.code.append(e.digit)),
        Row(S.ENTER_CODE, ev.Erase, None, lambda c, e: bool(c.code), _erase),
        Row(S.ENTER_CODE, ev.Confirm, S.LOOKING_UP, code_ok),
        Row(S.ENTER_CODE, ev.Back, S.SCAN),
        Row(S.LOOKING_UP, ev.OrderFound, S.ORDER_SUMMARY, None, lambda c, e: setattr(c, "order", e.order)),
        Row(S.LOOKING_UP, ev.OrderNotFound, S.NOT_FOUND, None, lambda c, e: setattr(c, "not_found_reason", e.reason)),
        Row(S.LOOKING_UP, ev.CentralUnreachable, S.UNAVAILABLE),
        Row(S.LOOKING_UP, TimedOut, S.UNAVAILABLE),
        Row(S.NOT_FOUND, ev.Confirm, S.SCAN),
        Row(S.NOT_FOUND, ev.Back, S.SCAN),
        Row(S.NOT_FOUND, TimedOut, S.HOME, None, _ender(Outcome.ABORTED, AbortReason.ORDER_NOT_FOUND)),
        Row(S.ORDER_SUMMARY, ev.Confirm, S.CHOOSE_METHOD, lambda c, e: bool(c.methods())),
        Row(S.ORDER_SUMMARY, ev.Back, S.SCAN, None, lambda c, e: setattr(c, "order", None)),
        Row(S.CHOOSE_METHOD, ev.ChooseMethod, S.CHECKING_PRINTER, lambda c, e: e.method_id in c.methods(),
            lambda c, e: setattr(c, "method_id", e.method_id)),
        Row(S.CHOOSE_METHOD, ev.Back, S.ORDER_SUMMARY),
        Row(S.CHECKING_PRINTER, ev.PrinterReady, S.PAYING),
        Row(S.CHECKING_PRINTER, ev.PrinterNotReady, S.PRINTER_UNAVAILABLE),
        Row(S.CHECKING_PRINTER, TimedOut, S.PRINTER_UNAVAILABLE),
        Row(S.PAYING, ev.PaymentProgress, None, None, lambda c, e: setattr(c, "payment_phase", e.phase)),
        Row(S.PAYING, ev.Cancel, None, None, _abort_payment),
        Row(S.PAYING, ev.PaymentUnknown, S.PAYMENT_UNKNOWN),
        Row(S.PAYING, TimedOut, S.PAYMENT_UNKNOWN),
        Row(PAYMENT_WAITS, ev.PaymentApproved, S.PRINTING_RECEIPT, lambda c, e: e.ref == c.payment_ref,
            lambda c, e: setattr(c, "paid", True)),
        Row(PAYMENT_WAITS, ev.PaymentDeclined, S.HOME, lambda c, e: c.cancel_requested,
            _ender(Outcome.ABORTED, AbortReason.CANCELLED)),
        Row(PAYMENT_WAITS, ev.PaymentDeclined, S.PAYMENT_DECLINED),
        Row(S.PAYMENT_DECLINED, ev.Confirm, S.CHOOSE_METHOD),
        Row(S.PAYMENT_DECLINED, ev.Back, S.CHOOSE_METHOD),
        Row(S.PRINTING_RECEIPT, ev.PrintDone, S.DONE),
        Row(S.PRINTING_RECEIPT, ev.PrintFailed, S.RECEIPT_FAILED),
        Row(S.PRINTING_RECEIPT, TimedOut, S.RECEIPT_FAILED),
        Row(S.RECEIPT_FAILED, ev.Confirm, S.DONE),
        Row(S.RECEIPT_FAILED, TimedOut, S.DONE),
        Row(S.MORE_TIME, ev.MoreTime, RESUME),
        Row(S.MORE_TIME, ev.Back, RESUME),
        Row(S.MORE_TIME, TimedOut, S.HOME, None, _ender(Outcome.ABORTED, AbortReason.IDLE_TIMEOUT)),
    ]  # fmt: skip
    for step, (outcome, reason) in NOTICES.items():
        if step is S.RECEIPT_FAILED:
            continue
        rows.append(Row(step, ev.Confirm, S.HOME, None, _ender(outcome, reason)))
        rows.append(Row(step, TimedOut, S.HOME, None, _ender(outcome, reason)))
        if step in (S.UNAVAILABLE, S.PRINTER_UNAVAILABLE):
            rows.append(Row(step, ev.Cancel, S.HOME, None, _ender(outcome, reason)))
    rows += [
        Row(frozenset(CANCELLABLE), ev.Cancel, S.HOME, None, _ender(Outcome.ABORTED, AbortReason.CANCELLED)),
        Row(frozenset(IDLE), TimedOut, S.MORE_TIME),
    ]
    return rows


def build_register_spec() -> MachineSpec[S, Ctx]:
    """The machine specification of the register flow."""
    return MachineSpec(
        _states(), _transitions(), S.HOME, on_exit=lambda c, step, secs: c.steps.add(step.value, secs)
    )


@dataclass(frozen=True)
class RegisterView:
    """What the register screens show."""

    step: RegisterStep
    time_left: float | None
    code_length: int = 0
    code: str = ""
    not_found_reason: str = ""
    order: ev.Order | None = None
    methods: tuple[str, ...] = ()
    method_id: str | None = None
    payment_phase: str = ""
    interrupted: RegisterStep | None = None


class RegisterFlow:
    """The semi-self register flow; feed events with `handle()`, draw from `view()`."""

    def __init__(
        self, settings: RegisterSettings, clock: Clock, *, make_ref: Callable[[], str] = new_ref
    ) -> None:
        self.context = RegisterContext(settings=settings, make_ref=make_ref, language=settings.language)
        self.machine: Machine[RegisterStep, RegisterContext] = Machine(
            build_register_spec(), self.context, clock
        )

    @property
    def step(self) -> RegisterStep:
        """The current step."""
        return self.machine.state

    def handle(self, event: Event) -> list[Command]:
        """Process one event; return the commands for the runner."""
        return handle_calling_staff(self.machine, event)

    def view(self) -> RegisterView:
        """A snapshot for the screen."""
        c = self.context
        return RegisterView(
            step=self.machine.state,
            time_left=self.machine.time_left(),
            code_length=len(c.code),
            code="".join(c.code),
            not_found_reason=c.not_found_reason,
            order=c.order,
            methods=c.methods(),
            method_id=c.method_id,
            payment_phase=c.payment_phase,
            interrupted=self.machine.interrupted,
        )
