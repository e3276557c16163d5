"""Stateful property: whatever the terminal does, an order is never approved twice, and the journal
agrees with the terminal's ledger (never behind it, never "failed" while it has the money)."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from device_drivers.payment.codec import Timers
from device_drivers.payment.errors import AlreadyPaid, OrderBlocked, VoidRefused
from device_drivers.payment.messages import Method, ResultCode
from device_drivers.payment.records import Operation
from device_drivers.payment.simulator import Behaviour, start_simulator
from tests.payment_helpers import make_kiosk

ORDERS = st.sampled_from(["o-1", "o-2", "o-3"])
SCRIPTS = st.sampled_from(
    [
        Behaviour.APPROVE,
        Behaviour.DECLINE,
        Behaviour.CANCEL,
        Behaviour.EMONEY_UNKNOWN,
        Behaviour.NAK_STORM,
        Behaviour.CORRUPT_SAL,
        Behaviour.CORRUPT_RES,
        Behaviour.GARBAGE,
        Behaviour.LOST_KIOSK_ACK,
    ]
)


class PaymentMachine(RuleBasedStateMachine):
    """Random sequences of sales, reconciliations, voids and kiosk restarts against the simulator."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="pay-sm-"))
        self.sim = start_simulator(
            Behaviour.APPROVE, ledger_path=self.tmp / "ledger.jsonl", symlink=self.tmp / "tty"
        )
        self.kiosk = make_kiosk(self.tmp, self.sim, timers=Timers(recovery_budget=30.0))

    @rule(order=ORDERS, script=SCRIPTS, method=st.sampled_from([Method.CREDIT, Method.EMONEY, Method.QR]))
    def pay(self, order: str, script: Behaviour, method: Method) -> None:
        self.sim.terminal.behaviour = script
        with contextlib.suppress(AlreadyPaid, OrderBlocked):
            self.kiosk.terminal.sale(order, 300, method)

    @rule(order=ORDERS)
    def staff_reconcile(self, order: str) -> None:
        charged_refs = {c.ref for c in self.sim.ledger.charges()}
        for record in self.kiosk.journal.records(order_id=order):
            if record.needs_staff:
                self.kiosk.journal.reconcile(
                    record.ref, record.ref in charged_refs, "staff", "terminal history"
                )

    @rule(order=ORDERS)
    def staff_void(self, order: str) -> None:
        self.sim.terminal.behaviour = Behaviour.APPROVE
        for record in self.kiosk.journal.records(order_id=order):
            if record.op is Operation.SALE and record.paid and record.txn_id:
                with contextlib.suppress(VoidRefused):
                    self.kiosk.terminal.void(record.ref, staff="staff")

    @rule()
    def restart_kiosk(self) -> None:
        self.kiosk.terminal.close()
        self.kiosk.journal.close()
        self.kiosk = make_kiosk(self.tmp, self.sim, timers=Timers(recovery_budget=30.0))
        self.kiosk.terminal.open()

    @invariant()
    def never_two_approvals_per_order(self) -> None:
        records = self.kiosk.journal.records()
        voided = {r.orig_ref for r in records if r.op is Operation.VOID and r.result is ResultCode.APPROVED}
        for order in {r.order_id for r in records}:
            live = [
                r
                for r in records
                if r.order_id == order and r.op is Operation.SALE and r.paid and r.ref not in voided
            ]
            assert len(live) <= 1, [r.ref for r in live]
        refunds = {e.ref for e in self.sim.ledger.entries() if e.kind == "refund"}
        for order in {r.order_id for r in records}:
            refs = {r.ref for r in records if r.order_id == order}
            net = [c for c in self.sim.ledger.charges() if c.ref in refs and c.ref not in refunds]
            assert len(net) <= 1

    @invariant()
    def journal_agrees_with_the_terminal(self) -> None:
        charged = {c.ref for c in self.sim.ledger.charges()}
        for record in self.kiosk.journal.records():
            if record.op is not Operation.SALE or not record.definite:
                continue
            assert record.paid == (record.ref in charged), (record.ref, record.state, record.result)

    def teardown(self) -> None:
        self.kiosk.terminal.close()
        self.kiosk.journal.close()
        self.sim.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


PaymentMachine.TestCase.settings = settings(max_examples=12, stateful_step_count=12, deadline=None)
TestPaymentMachine = PaymentMachine.TestCase
