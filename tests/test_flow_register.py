"""The semi-self register flow: every transition and timeout on a fake clock, and what a resident notices."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from kiosk_app.flows import commands as cmd
from kiosk_app.flows import events as ev
from kiosk_app.flows.clock import FakeClock
from kiosk_app.flows.core import Command, Event, Tick
from kiosk_app.flows.register import CANCELLABLE, IDLE, RegisterFlow, RegisterSettings, RegisterStep
from kiosk_app.flows.stats import AbortReason, Outcome, SessionStats
from madoguchi.contracts.messages import StatsItem

S = RegisterStep
T = "timeout"
ORDER = ev.Order(
    order_id="ord-0042",
    lines=(
        ev.OrderLine("juminhyo_counter", "住民票の写し（窓口）", 2, 600),
        ev.OrderLine("sodai_gomi", "粗大ごみ処理券", 1, 300),
    ),
    total_yen=900,
    methods=("cash", "credit", "qr"),
)


def approved(flow: RegisterFlow) -> Event:
    assert flow.context.payment_ref is not None
    return ev.PaymentApproved(flow.context.payment_ref)


class Reg:
    """A register flow on a fake clock that records commands."""

    def __init__(self) -> None:
        counter = itertools.count(1)
        self.clock = FakeClock()
        self.flow = RegisterFlow(
            RegisterSettings(methods=("credit", "emoney", "qr")),
            self.clock,
            make_ref=lambda: f"pay-{next(counter)}",
        )
        self.commands: list[Command] = []

    def send(self, *items: object) -> list[Command]:
        out: list[Command] = []
        for item in items:
            if item == T:
                left = self.flow.machine.time_left()
                assert left is not None, f"{self.flow.step} has no timeout"
                self.clock.advance(left - 0.05)
                assert self.flow.handle(Tick()) == []
                self.clock.advance(0.05)
                out += self.flow.handle(Tick())
                continue
            event = item(self.flow) if callable(item) else item
            assert isinstance(event, Event)
            out += self.flow.handle(event)
        self.commands += out
        return out

    def stats(self) -> list[SessionStats]:
        return [c.stats for c in self.commands if isinstance(c, cmd.EmitStatistic)]


TO_SCAN = [ev.Start()]
TO_LOOKUP = [*TO_SCAN, ev.SlipScanned("100042")]
TO_SUMMARY = [*TO_LOOKUP, ev.OrderFound(ORDER)]
TO_METHOD = [*TO_SUMMARY, ev.Confirm()]
TO_CHECK = [*TO_METHOD, ev.ChooseMethod("qr")]
TO_PAYING = [*TO_CHECK, ev.PrinterReady()]
TO_RECEIPT = [*TO_PAYING, approved]
PATHS: dict[RegisterStep, list[object]] = {
    S.HOME: [],
    S.SCAN: TO_SCAN,
    S.ENTER_CODE: [*TO_SCAN, ev.TypeCodeInstead()],
    S.LOOKING_UP: TO_LOOKUP,
    S.NOT_FOUND: [*TO_LOOKUP, ev.OrderNotFound("already_paid")],
    S.UNAVAILABLE: [*TO_LOOKUP, ev.CentralUnreachable()],
    S.ORDER_SUMMARY: TO_SUMMARY,
    S.CHOOSE_METHOD: TO_METHOD,
    S.CHECKING_PRINTER: TO_CHECK,
    S.PRINTER_UNAVAILABLE: [*TO_CHECK, ev.PrinterNotReady("out_of_paper")],
    S.PAYING: TO_PAYING,
    S.PAYMENT_DECLINED: [*TO_PAYING, ev.PaymentDeclined()],
    S.PAYMENT_UNKNOWN: [*TO_PAYING, ev.PaymentUnknown()],
    S.PRINTING_RECEIPT: TO_RECEIPT,
    S.RECEIPT_FAILED: [*TO_RECEIPT, ev.PrintFailed("out_of_paper")],
    S.DONE: [*TO_RECEIPT, ev.PrintDone()],
    S.MORE_TIME: [*TO_SCAN, T],
}


@dataclass(frozen=True)
class Case:
    name: str
    start: RegisterStep
    events: tuple[object, ...]
    end: RegisterStep
    commands: tuple[type[Command], ...] = ()


def c(
    name: str, start: RegisterStep, events: list[object], end: RegisterStep, *commands: type[Command]
) -> Case:
    return Case(name, start, tuple(events), end, commands)


STAT = cmd.EmitStatistic
CASES = [
    c("start", S.HOME, [ev.Start()], S.SCAN),
    c("scanned", S.SCAN, [ev.SlipScanned(" 100042 ")], S.LOOKING_UP, cmd.LookupOrder),
    c("blank_scan_ignored", S.SCAN, [ev.SlipScanned("  ")], S.SCAN),
    c("type_instead", S.SCAN, [ev.TypeCodeInstead()], S.ENTER_CODE),
    c("scan_back", S.SCAN, [ev.Back()], S.HOME, STAT),
    c("scanned_while_typing", S.ENTER_CODE, [ev.Digit("1"), ev.SlipScanned("100042")], S.LOOKING_UP),
    c("digit", S.ENTER_CODE, [ev.Digit("7")], S.ENTER_CODE),
    c("erase", S.ENTER_CODE, [ev.Digit("7"), ev.Erase()], S.ENTER_CODE),
    c("empty_code_not_submitted", S.ENTER_CODE, [ev.Confirm()], S.ENTER_CODE),
    c(
        "code_submitted",
        S.ENTER_CODE,
        [ev.Digit("4"), ev.Digit("2"), ev.Confirm()],
        S.LOOKING_UP,
        cmd.LookupOrder,
    ),
    c("enter_code_back", S.ENTER_CODE, [ev.Back()], S.SCAN),
    c("found", S.LOOKING_UP, [ev.OrderFound(ORDER)], S.ORDER_SUMMARY),
    c("not_found", S.LOOKING_UP, [ev.OrderNotFound()], S.NOT_FOUND),
    c("lookup_unreachable", S.LOOKING_UP, [ev.CentralUnreachable()], S.UNAVAILABLE),
    c("lookup_timeout", S.LOOKING_UP, [T], S.UNAVAILABLE),
    c("not_found_retry", S.NOT_FOUND, [ev.Confirm()], S.SCAN),
    c("not_found_back", S.NOT_FOUND, [ev.Back()], S.SCAN),
    c("not_found_timeout", S.NOT_FOUND, [T], S.HOME, STAT),
    c("summary_next", S.ORDER_SUMMARY, [ev.Confirm()], S.CHOOSE_METHOD),
    c("summary_back", S.ORDER_SUMMARY, [ev.Back()], S.SCAN),
    c("method", S.CHOOSE_METHOD, [ev.ChooseMethod("credit")], S.CHECKING_PRINTER, cmd.CheckPrinter),
    c("cash_not_at_this_kiosk", S.CHOOSE_METHOD, [ev.ChooseMethod("cash")], S.CHOOSE_METHOD),
    c("method_back", S.CHOOSE_METHOD, [ev.Back()], S.ORDER_SUMMARY),
    c("printer_ready", S.CHECKING_PRINTER, [ev.PrinterReady()], S.PAYING, cmd.StartPayment),
    c(
        "printer_not_ready",
        S.CHECKING_PRINTER,
        [ev.PrinterNotReady("out_of_paper")],
        S.PRINTER_UNAVAILABLE,
        cmd.CallStaffCommand,
    ),
    c("printer_timeout", S.CHECKING_PRINTER, [T], S.PRINTER_UNAVAILABLE),
    c("progress", S.PAYING, [ev.PaymentProgress("WAIT_CARD")], S.PAYING),
    c("cancel_payment", S.PAYING, [ev.Cancel()], S.PAYING, cmd.AbortPayment),
    c("unknown", S.PAYING, [ev.PaymentUnknown()], S.PAYMENT_UNKNOWN, cmd.CallStaffCommand),
    c("paying_timeout", S.PAYING, [T], S.PAYMENT_UNKNOWN),
    c("approved", S.PAYING, [approved], S.PRINTING_RECEIPT, cmd.MarkOrderPaid, cmd.PrintReceipt),
    c("late_approval", S.PAYMENT_UNKNOWN, [approved], S.PRINTING_RECEIPT, cmd.MarkOrderPaid),
    c("declined_after_cancel", S.PAYING, [ev.Cancel(), ev.PaymentDeclined("cancelled")], S.HOME, STAT),
    c("declined", S.PAYING, [ev.PaymentDeclined()], S.PAYMENT_DECLINED),
    c("declined_retry", S.PAYMENT_DECLINED, [ev.Confirm()], S.CHOOSE_METHOD),
    c("declined_back", S.PAYMENT_DECLINED, [ev.Back()], S.CHOOSE_METHOD),
    c("receipt_printed", S.PRINTING_RECEIPT, [ev.PrintDone()], S.DONE, cmd.PlayCue),
    c(
        "receipt_failed",
        S.PRINTING_RECEIPT,
        [ev.PrintFailed("out_of_paper")],
        S.RECEIPT_FAILED,
        cmd.CallStaffCommand,
    ),
    c("receipt_timeout", S.PRINTING_RECEIPT, [T], S.RECEIPT_FAILED),
    c("receipt_failed_ok", S.RECEIPT_FAILED, [ev.Confirm()], S.DONE),
    c("receipt_failed_timeout", S.RECEIPT_FAILED, [T], S.DONE),
    c("more_time", S.MORE_TIME, [ev.MoreTime()], S.SCAN),
    c("more_time_back", S.MORE_TIME, [ev.Back()], S.SCAN),
    c("more_time_timeout", S.MORE_TIME, [T], S.HOME, STAT),
]
for _step in (S.UNAVAILABLE, S.PRINTER_UNAVAILABLE, S.PAYMENT_UNKNOWN, S.DONE):
    CASES += [c(f"{_step.value}_ok", _step, [ev.Confirm()], S.HOME, STAT),
              c(f"{_step.value}_timeout", _step, [T], S.HOME, STAT)]  # fmt: skip
    if _step in (S.UNAVAILABLE, S.PRINTER_UNAVAILABLE):
        CASES.append(c(f"{_step.value}_cancel", _step, [ev.Cancel()], S.HOME, STAT))
CASES += [
    c(f"{s.value}_cancel", s, [ev.Cancel()], S.HOME, STAT) for s in sorted(CANCELLABLE, key=lambda s: s.value)
]
CASES += [c(f"{s.value}_idle", s, [T], S.MORE_TIME) for s in sorted(IDLE, key=lambda s: s.value)]


def run_case(case: Case) -> tuple[Reg, list[Command], list[int]]:
    r = Reg()
    r.send(*PATHS[case.start])
    assert r.flow.step is case.start
    already = len(r.flow.machine.fired)
    out = r.send(*case.events)
    return r, out, r.flow.machine.fired[already:]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_register_transition(case: Case) -> None:
    """GIVEN the register flow at a step WHEN the case's events arrive THEN it reaches the expected step."""
    r, out, _ = run_case(case)
    assert r.flow.step is case.end
    for kind in case.commands:
        assert any(isinstance(x, kind) for x in out), f"no {kind.__name__} in {out}"


def test_every_register_row_and_timeout_has_a_case() -> None:
    """GIVEN the register table WHEN all cases run THEN every row fired and every timed step timed out once."""
    fired: set[int] = set()
    timed_out: set[RegisterStep] = set()
    for case in CASES:
        fired.update(run_case(case)[2])
        if T in case.events:
            timed_out.add(case.start)
    spec = Reg().flow.machine.spec
    missing = [
        f"#{i} {r.source} --{r.on.__name__}--> {r.target}"
        for i, r in enumerate(spec.transitions)
        if i not in fired
    ]
    assert not missing, "\n".join(missing)
    assert {s.state for s in spec.states if s.timeout is not None} - timed_out == set()


def test_register_payment_pays_the_total_marks_the_order_and_prints_the_receipt() -> None:
    """GIVEN a staff-registered order of 900 yen WHEN the resident scans and pays by QR THEN exactly 900 yen is
    charged once, the order is marked paid with that reference, a receipt prints, and one statistic is kept."""
    r = Reg()
    r.send(*TO_RECEIPT, ev.PrintDone(), ev.Confirm())
    sales = [x for x in r.commands if isinstance(x, cmd.StartPayment)]
    assert sales == [cmd.StartPayment("pay-1", 900, "qr", "ord-0042")]
    assert cmd.MarkOrderPaid("ord-0042", "pay-1", "qr") in r.commands
    assert cmd.PrintReceipt("ord-0042", "pay-1", "qr") in r.commands
    (stats,) = r.stats()
    assert (stats.outcome, stats.fee_yen, stats.items, stats.method) == (Outcome.COMPLETED, 900, 2, "qr")
    item = stats.to_stats_item(1, 0)
    assert isinstance(item, StatsItem) and item.kind == "register_session"
    assert "住民票" not in item.to_bytes().decode()


def test_register_typed_code_is_looked_up() -> None:
    """GIVEN the slip cannot be scanned WHEN the resident types 0042 THEN that code is looked up."""
    r = Reg()
    out = r.send(ev.Start(), ev.TypeCodeInstead(), *(ev.Digit(d) for d in "00429"), ev.Erase(), ev.Confirm())
    assert out[-1] == cmd.LookupOrder("0042")
    assert r.flow.view().code == "0042"


def test_register_printer_out_of_paper_takes_no_payment() -> None:
    """GIVEN the receipt printer is out of paper WHEN a method is chosen THEN no payment starts."""
    r = Reg()
    r.send(*TO_CHECK, ev.PrinterNotReady("out_of_paper"), ev.Confirm())
    assert not [x for x in r.commands if isinstance(x, cmd.StartPayment)]
    assert r.stats()[0].abort_reason is AbortReason.PRINTER_UNAVAILABLE


def test_register_offers_only_methods_both_order_and_kiosk_accept() -> None:
    """GIVEN an order payable by cash, credit or QR and a cashless kiosk WHEN methods show THEN credit and QR."""
    r = Reg()
    r.send(*TO_METHOD)
    assert r.flow.view().methods == ("credit", "qr")
