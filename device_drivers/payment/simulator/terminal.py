"""The simulated terminal: answers KPL v1 over the pty, keeps a durable result store, charges the ledger.

Each SAL runs as a small generator of steps (it yields how long to wait before the next step), so
the terminal keeps answering STS, INQ, ABT and CFM while a payment runs. Scripted delays run on
`clock`; with `jump_time` (a virtual clock) waits are taken at once.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from device_drivers.errors import DeviceUnavailable
from device_drivers.payment.clock import JST, Clock, SystemClock
from device_drivers.payment.codec import Timers
from device_drivers.payment.errors import LinkFailure
from device_drivers.payment.kpl import KplCodec
from device_drivers.payment.link import Link
from device_drivers.payment.messages import (
    Abort,
    Confirm,
    Inquiry,
    InquiryReply,
    InquiryStatus,
    Message,
    Method,
    Phase,
    Progress,
    Result,
    ResultCode,
    Sale,
    Status,
    StatusReply,
    TerminalState,
    Void,
)
from device_drivers.payment.simulator.behaviours import Behaviour
from device_drivers.payment.simulator.ledger import Ledger, LedgerEntry
from device_drivers.payment.simulator.pty_device import PtyDevice

__all__ = ["SimTerminal"]

_logger = logging.getLogger(__name__)
B = Behaviour
Steps = Generator[float, None, None]
_NOISE = b"\x00\xffNOISE\x03\x02\x02zz\x03 \x1c\x7f"


@dataclass
class _Operation:
    message: Sale | Void
    steps: Steps
    due: float = 0.0
    abort: bool = False

    @property
    def ref(self) -> str:
        return self.message.ref


@dataclass
class SimTerminal:
    """A KPL v1 terminal on `device`."""

    device: PtyDevice
    behaviour: Behaviour = B.APPROVE
    ledger: Ledger = field(default_factory=Ledger)
    clock: Clock = field(default_factory=SystemClock)
    jump_time: bool = False
    timers: Timers = field(default_factory=lambda: Timers(t_ack=0.5))
    terminal_id: str = "SIM-0001"
    step: float = 0.02
    card_balance: int = 5000
    replug_delay: float = 0.3
    store: dict[str, Result] = field(default_factory=dict)
    received: list[tuple[str, str]] = field(default_factory=list)
    sent: list[tuple[str, str]] = field(default_factory=list)
    reboots: int = 0

    def __post_init__(self) -> None:
        self._codec = KplCodec()
        self._op: _Operation | None = None
        self._txn = itertools.count(1)
        self._sal_seen = 0
        self._corrupted = 0
        self._res_sent = 0
        self._voided: set[str] = set()
        self._lock = threading.Lock()
        self.link = self._new_link()
        self.device.rx_filter = self._rx_filter

    def _new_link(self) -> Link:
        return Link(self.device, self._codec, SystemClock(), self.timers, drop_ack=self._drop_ack)

    # --- scripted faults on the line ------------------------------------------------------------
    def _drop_ack(self, message: Message) -> bool:
        return self.behaviour is B.LOST_ACK and isinstance(message, Sale) and self._sal_seen == 0

    def _rx_filter(self, data: bytes) -> bytes:
        if b"SAL\x1c" not in data:
            return data
        corrupt = self.behaviour is B.NAK_STORM or (self.behaviour is B.CORRUPT_SAL and self._corrupted == 0)
        if corrupt:
            self._corrupted += 1
            self.received.append(("corrupted", "SAL"))
            return data[:-1] + bytes([data[-1] ^ 0x41])
        return data

    def _write_hook(self, attempt: int, frame: bytes) -> bytes:
        if self.behaviour is B.GARBAGE:
            return _NOISE + frame
        if self.behaviour is B.STALL and attempt == 1 and b"PRG" in frame and not self._stalled:
            self._stalled = True
            half = len(frame) // 2
            self.device.write(frame[:half])
            time.sleep(0.3)  # real time: longer than T_CHAR in any clock
            return frame[half:]
        if self.behaviour is B.CORRUPT_RES and attempt == 1 and b"RES" in frame and self._res_sent == 0:
            return frame[:-1] + bytes([frame[-1] ^ 0x41])
        return frame

    _stalled = False

    # --- main loop ------------------------------------------------------------------------------
    def serve(self, stop: threading.Event) -> None:
        """Run until `stop` is set."""
        while not stop.is_set():
            op = self._op
            if op is not None and op.due <= self.clock.monotonic():
                self._run_due_step()  # a due step runs before waiting for input
                continue
            try:
                message = self.link.receive(None)
            except DeviceUnavailable:
                time.sleep(self.device.poll)
                continue
            if message is not None:
                self.received.append((message.TYPE, getattr(message, "ref", "")))
                self._handle(message)
                continue
            self._run_due_step()

    def _run_due_step(self) -> None:
        op = self._op
        if op is None:
            return
        remaining = op.due - self.clock.monotonic()
        if remaining > 0:
            self.clock.sleep(remaining if self.jump_time else min(remaining, self.device.poll))
            return
        try:
            op.due = self.clock.monotonic() + next(op.steps)
        except StopIteration:
            if self._op is op:
                self._op = None

    def _handle(self, message: Message) -> None:
        if isinstance(message, Status):
            state = TerminalState.BUSY if self._op else TerminalState.READY
            self._send(StatusReply(state, self.terminal_id, self._op.ref if self._op else None))
        elif isinstance(message, Sale | Void):
            self._on_financial(message)
        elif isinstance(message, Abort):
            if self._op is not None and self._op.ref == message.ref:
                self._op.abort = True
            elif message.ref in self.store:
                self._send(self.store[message.ref])
            else:
                self._send(Result(message.ref, ResultCode.ERROR_NOT_CHARGED, resp_code="NOT_FOUND"))
        elif isinstance(message, Inquiry):
            self._send(self._inquiry_reply(message.ref))
        elif isinstance(message, Confirm):
            _logger.debug("CFM received")

    def _inquiry_reply(self, ref: str) -> InquiryReply:
        stored = self.store.get(ref)
        if stored is not None:
            return InquiryReply(ref, InquiryStatus(stored.result.value), stored)
        if self._op is not None and self._op.ref == ref:
            return InquiryReply(ref, InquiryStatus.IN_PROGRESS)
        return InquiryReply(ref, InquiryStatus.NOT_FOUND)

    def _on_financial(self, message: Sale | Void) -> None:
        if isinstance(message, Sale):
            self._sal_seen += 1
        stored = self.store.get(message.ref)
        if stored is not None:
            self._send(stored)  # the original always wins: no new charge
            return
        if self._op is not None:
            if self._op.ref != message.ref:
                self._send(Result(message.ref, ResultCode.ERROR_NOT_CHARGED, resp_code="BUSY"))
            return  # same ref: join the running operation
        steps = self._void_steps(message) if isinstance(message, Void) else self._sale_steps(message)
        self._op = _Operation(message, steps, due=self.clock.monotonic())

    # --- scripted operations --------------------------------------------------------------------
    def _sale_steps(self, sale: Sale) -> Steps:
        behaviour = self.behaviour
        yield from self._phase(sale, Phase.WAIT_CARD)
        if behaviour is B.CANCEL:
            yield self.step
            self._finish(sale, ResultCode.CANCELLED, resp_code="USER")
            return
        if behaviour is B.WAIT_CARD:
            waited = 0.0
            while waited < 60.0:
                if self._op is not None and self._op.abort:
                    self._finish(sale, ResultCode.CANCELLED, resp_code="ABT")
                    return
                yield self.step
                waited += self.step
            self._finish(sale, ResultCode.TIMEOUT, resp_code="CARD_TIMEOUT")
            return
        yield from self._phase(sale, Phase.READING)
        if behaviour is B.EMONEY_UNKNOWN:
            yield from self._phase(sale, Phase.RETOUCH)
            before = self.card_balance
            self.card_balance -= sale.amount  # the card was deducted, the terminal never learned it
            self.ledger.append(LedgerEntry("charge", sale.ref, sale.amount, "EMONEY", "", note="処理未了"))
            self._finish(
                sale, ResultCode.UNKNOWN, method=Method.EMONEY, brand="TRANSIT-IC", bal_before=before
            )
            return
        if sale.method is Method.CREDIT:
            yield from self._phase(sale, Phase.PIN)
        yield from self._phase(sale, Phase.AUTHORIZING)
        if behaviour is B.SLOW:
            for _ in range(5):
                yield 60.0
                self._send(Progress(sale.ref, Phase.AUTHORIZING))
        if behaviour is B.ABORT_RACE:
            waited = 0.0
            while not (self._op is not None and self._op.abort) and waited < 5.0:
                yield self.step
                waited += self.step
        if behaviour is B.DECLINE:
            self._finish(sale, ResultCode.DECLINED, resp_code="51")
            return
        result = self._charge(sale)
        if behaviour is B.LOST_RESULT:
            return
        if behaviour is B.REBOOT:
            self._reboot()
            return
        if behaviour is B.UNPLUG:
            self.device.unplug()
            time.sleep(self.replug_delay)
            self.device.replug()
            self.link = self._new_link()
            self._op = None
            return
        self._send(result)
        if behaviour is B.LOST_KIOSK_ACK:
            self.sent.append(("re-ACKed" if self.link.retransmit_last() else "not re-ACKed", sale.ref))

    def _void_steps(self, void: Void) -> Steps:
        yield from self._phase(void, Phase.AUTHORIZING)
        orig = self.store.get(void.orig_ref)
        today = self.clock.wall().astimezone(JST).strftime("%Y%m%d")
        if (
            orig is None
            or orig.result is not ResultCode.APPROVED
            or orig.txn_id != void.orig_txn
            or orig.amount != void.amount
            or (orig.term_time or "")[:8] != today
            or void.orig_ref in self._voided
        ):
            self._finish(void, ResultCode.DECLINED, resp_code="VOID_REFUSED")
            return
        self._voided.add(void.orig_ref)
        txn = self._next_txn()
        self.ledger.append(
            LedgerEntry("refund", void.orig_ref, void.amount, str(orig.method or ""), txn, void.ref)
        )
        self._finish(void, ResultCode.APPROVED, txn_id=txn, method=orig.method, brand=orig.brand)

    def _phase(self, message: Sale | Void, phase: Phase) -> Steps:
        self._send(Progress(message.ref, phase))
        yield self.step

    def _charge(self, sale: Sale) -> Result:
        txn = self._next_txn()
        method = Method.CREDIT if sale.method is Method.ANY else sale.method
        self.ledger.append(LedgerEntry("charge", sale.ref, sale.amount, method.value, txn))
        masked = "4111111111111111" if self.behaviour is B.LEAK_PAN else "411111******1111"
        balances: dict[str, int] = {}
        if method is Method.EMONEY:
            balances = {"bal_before": self.card_balance, "bal_after": self.card_balance - sale.amount}
            self.card_balance -= sale.amount
        return self._store(
            sale,
            ResultCode.APPROVED,
            method=method,
            brand="VISA" if method is Method.CREDIT else method.value,
            masked_id=masked if method is Method.CREDIT else None,
            auth_code="A1B2C3",
            txn_id=txn,
            **balances,
            resp_code="00",
        )

    def _finish(self, message: Sale | Void, code: ResultCode, **fields: Any) -> None:
        self._send(self._store(message, code, **fields))

    def _store(self, message: Sale | Void, code: ResultCode, **fields: Any) -> Result:
        term_time = self.clock.wall().astimezone(JST).strftime("%Y%m%d%H%M%S")
        method = fields.pop("method", getattr(message, "method", None))
        result = Result(
            message.ref, code, amount=message.amount, method=method, term_time=term_time, **fields
        )
        self.store[message.ref] = result  # durable store: survives reboot and unplug
        return result

    def _next_txn(self) -> str:
        return f"T{next(self._txn):08d}"

    def _reboot(self) -> None:
        """Forget everything volatile: the running operation, SEQ and duplicate memory."""
        self.reboots += 1
        self._op = None
        self.link = self._new_link()
        _logger.info("simulator rebooted")

    def _send(self, message: Message) -> None:
        ref = getattr(message, "ref", "")
        try:
            self.link.send(message, stop=lambda: self._confirmed(ref), write_hook=self._write_hook)
            self.sent.append((message.TYPE, ref))
        except (LinkFailure, DeviceUnavailable) as exc:
            self.sent.append((f"{message.TYPE} undelivered", ref))
            _logger.info("simulator: %s not delivered (%s)", message.TYPE, exc.code)
        if isinstance(message, Result):
            self._res_sent += 1

    def _confirmed(self, ref: str) -> bool:
        return any(isinstance(m, Confirm) and m.ref == ref for m in self.link.pending())
