"""Transaction layer: STS, SAL/VOD with PRG and RES, ABT, CFM, and recovery by INQ (reference §3).

Every state change is committed to the journal before the driver acts on it. After SENDING the
only exits are a definite RES/INR or UNKNOWN; a local time-out or a lost line leads to inquiry by
our own reference, never to "failed" and never to a new financial command.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from device_drivers.errors import DeviceUnavailable
from device_drivers.payment.clock import Clock, Deadline
from device_drivers.payment.codec import Codec, Timers
from device_drivers.payment.errors import LinkFailure, TerminalUnavailable
from device_drivers.payment.journal import Journal, JournalError
from device_drivers.payment.link import Link, Transport
from device_drivers.payment.messages import (
    Abort,
    Confirm,
    Inquiry,
    InquiryReply,
    InquiryStatus,
    Message,
    Method,
    Progress,
    Result,
    ResultCode,
    Sale,
    Status,
    StatusReply,
    Void,
)
from device_drivers.payment.records import (
    JournalState,
    PaymentEvent,
    PaymentProgress,
    PaymentRecord,
    PaymentStateChanged,
)

__all__ = ["PortSource", "Session", "mask_id"]

_logger = logging.getLogger(__name__)
S = JournalState
_LINK_ERRORS = (LinkFailure, DeviceUnavailable)


class PortSource(Protocol):
    """Opens (and reopens, by the same stable path) the transport to the terminal."""

    @property
    def description(self) -> str:
        """Path and line settings, for logs and diagnostics."""
        ...

    def open(self) -> Transport:
        """Open the port; raises `TerminalUnavailable` when it cannot."""
        ...

    def close(self) -> None:
        """Release anything the source owns (e.g. a simulator it started)."""
        ...


def mask_id(value: str | None) -> str | None:
    """Keep at most the first 6 and last 4 digits of a card or e-money id (PCI DSS display rule)."""
    if value is None:
        return None
    digits = [i for i, ch in enumerate(value) if ch.isdigit()]
    if len(digits) <= 10:
        return value
    hidden = set(digits[6:-4])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(value))


class Session:
    """The open link to one terminal plus the journal; one financial operation at a time."""

    def __init__(
        self,
        source: PortSource,
        journal: Journal,
        codec: Codec,
        clock: Clock,
        timers: Timers | None = None,
    ) -> None:
        self.source = source
        self.journal = journal
        self.codec = codec
        self.clock = clock
        self.timers = timers or codec.timers
        self.link: Link | None = None
        self.terminal_id: str | None = None
        self._abort = threading.Event()
        self._on_event: Callable[[PaymentEvent], None] | None = None

    # --- line ----------------------------------------------------------------------------------
    def connect(self) -> StatusReply:
        """(Re)open the port by its path and send STS first, as after every open."""
        self.disconnect()
        self.link = Link(self.source.open(), self.codec, self.clock, self.timers)
        return self.status()

    def disconnect(self) -> None:
        """Close the port if open."""
        if self.link is not None:
            link, self.link = self.link, None
            try:
                link.transport.close()
            except Exception:  # closing a dead line must not hide the original problem
                _logger.debug("closing the payment line failed", exc_info=True)

    def status(self) -> StatusReply:
        """STS → STR. Never creates or changes a transaction."""
        link = self._link()
        link.send(self._status_message())
        deadline = Deadline(self.clock, self.timers.t_reply)
        while True:
            message = link.receive(deadline)
            if message is None:
                raise TerminalUnavailable("the terminal did not answer the status request (STS)")
            if isinstance(message, StatusReply):
                self.terminal_id = message.terminal_id
                return message
            self._absorb(message)

    def request_abort(self) -> None:
        """Ask the running SAL/VOD to be aborted (sent from the operation's own loop)."""
        self._abort.set()

    # --- financial operations ------------------------------------------------------------------
    def run(
        self, record: PaymentRecord, message: Sale | Void, on_event: Callable[[PaymentEvent], None] | None
    ) -> PaymentRecord:
        """Send a journaled SAL/VOD and follow it to a definite outcome or UNKNOWN."""
        self._abort.clear()
        self._on_event = on_event
        ref = record.ref
        self._commit(ref, S.SENDING)  # committed before the first byte
        link = self._link()
        before = link.stats.naks_received
        try:
            tries = link.send(message)
        except _LINK_ERRORS as exc:
            return self.recover(ref, f"{message.TYPE} not delivered: {exc.code}")
        self._commit(ref, S.ACCEPTED, tries=tries, naks=link.stats.naks_received - before)
        return self._await_result(ref)

    def _await_result(self, ref: str) -> PaymentRecord:
        deadline = Deadline(self.clock, self.timers.t_result)
        abort_sent = False
        try:
            link = self._link()
            while True:
                if self._abort.is_set() and not abort_sent:
                    abort_sent = True
                    _logger.info("payment %s: abort requested (ABT)", ref)
                    link.send(Abort(ref))
                message = link.receive(None)
                if isinstance(message, Result) and message.ref == ref:
                    return self._final(ref, message, via="RES")
                if deadline.expired():
                    return self.recover(ref, "no result before T_RESULT")
                if isinstance(message, Progress) and message.ref == ref:
                    deadline.restart()
                    if self.journal.get(ref).state is not S.IN_PROGRESS:
                        self._commit(ref, S.IN_PROGRESS)
                    self._emit(PaymentProgress(ref, self.journal.get(ref).order_id, message.phase))
                elif message is not None:
                    self._absorb(message)
        except _LINK_ERRORS as exc:
            return self.recover(ref, f"line problem while waiting for the result: {exc.code}")

    def recover(self, ref: str, reason: str, budget: float | None = None) -> PaymentRecord:
        """Inquire by `ref` (reopening the line as needed) until definite, else journal UNKNOWN."""
        _logger.info("payment %s: recovering by inquiry (%s)", ref, reason)
        limit = Deadline(self.clock, self.timers.recovery_budget if budget is None else budget)
        inquiries = 0
        while True:
            try:
                if self.link is None:
                    self.connect()
                link = self._link()
                link.send(Inquiry(ref))
                inquiries += 1
                answer = self._await_inquiry(ref)
                if isinstance(answer, Result):
                    return self._final(ref, answer, via="RES", inquiries=inquiries)
                if answer.status is InquiryStatus.NOT_FOUND:
                    return self._commit(
                        ref,
                        S.ERROR_NOT_CHARGED,
                        detail="INQ: NOT_FOUND",
                        result=ResultCode.ERROR_NOT_CHARGED,
                        inquiries=self._inquiries(ref, inquiries),
                        last_error=reason,
                    )
                if answer.result is not None:
                    return self._final(ref, answer.result, via="INQ", inquiries=inquiries)
                self._wait_in_progress(ref, Deadline(self.clock, self.timers.inquiry_interval))
            except _LINK_ERRORS as exc:
                if exc.code not in reason:
                    reason = f"{reason}; {exc.code}"
                _logger.info("payment %s: inquiry failed (%s)", ref, exc.code)
                self.disconnect()
                if limit.expired():
                    break
                self.clock.sleep(self.timers.reopen_interval)
                continue
            except _Definite as done:
                return done.record
            if limit.expired():
                break
        return self._commit(
            ref,
            S.UNKNOWN,
            detail=f"no definite answer: {reason}",
            result=ResultCode.UNKNOWN,
            inquiries=self._inquiries(ref, inquiries),
            last_error=f"no definite answer from the terminal: {reason}",
        )

    def _await_inquiry(self, ref: str) -> InquiryReply | Result:
        deadline = Deadline(self.clock, self.timers.t_reply)
        link = self._link()
        while True:
            message = link.receive(deadline)
            if message is None:
                raise TerminalUnavailable("the terminal did not answer the inquiry (INQ)")
            if isinstance(message, InquiryReply) and message.ref == ref:
                return message
            if isinstance(message, Result) and message.ref == ref:
                return message
            self._absorb(message)

    def _wait_in_progress(self, ref: str, deadline: Deadline) -> None:
        link = self._link()
        while True:
            message = link.receive(deadline)
            if message is None:
                return
            if isinstance(message, Result) and message.ref == ref:
                raise _Definite(self._final(ref, message, via="RES"))
            if isinstance(message, Progress) and message.ref == ref:
                self._emit(PaymentProgress(ref, self.journal.get(ref).order_id, message.phase))
            else:
                self._absorb(message)

    def _final(self, ref: str, res: Result, via: str, inquiries: int = 0) -> PaymentRecord:
        record = self.journal.get(ref)
        if record.definite:
            _logger.info("payment %s: %s %s again, journal unchanged", ref, via, res.result.value)
            self._confirm(ref)
            return record
        mismatch = (
            res.amount is not None or res.result is ResultCode.APPROVED
        ) and res.amount != record.amount
        if record.method is not Method.ANY and res.method is not None and res.method is not record.method:
            mismatch = True
        state = S.UNKNOWN if mismatch else S(res.result.value)
        note = "; amount/method differ from the journal" if mismatch else ""
        if res.masked_id is not None and mask_id(res.masked_id) != res.masked_id:
            _logger.warning("payment %s: terminal sent an unmasked card id; masked before journaling", ref)
        record = self._commit(
            ref,
            state,
            detail=f"{via}: {res.result.value}{note}",
            result=ResultCode.UNKNOWN if mismatch else res.result,
            res_amount=res.amount,
            res_method=res.method.value if res.method else None,
            brand=res.brand,
            masked_id=mask_id(res.masked_id),
            auth_code=res.auth_code,
            txn_id=res.txn_id,
            term_time=res.term_time,
            resp_code=res.resp_code,
            bal_before=res.bal_before,
            bal_after=res.bal_after,
            inquiries=self._inquiries(ref, inquiries),
            last_error=f"terminal reported {res.result.value}{note}" if state is S.UNKNOWN else None,
            terminal_id=self.terminal_id,
        )
        _logger.info(
            "payment %s: %s, %s yen, brand %s, resp %s",
            ref,
            record.state.value,
            res.amount,
            res.brand,
            res.resp_code,
        )
        if self._confirm(ref) and record.state is not S.UNKNOWN:
            record = self._commit(ref, S.CONFIRMED)
        return record

    def _confirm(self, ref: str) -> bool:
        """CFM after the result is journaled; a missing CFM never reverses anything."""
        try:
            self._link().send(Confirm(ref))
        except _LINK_ERRORS as exc:
            _logger.info("payment %s: CFM not delivered (%s); result stands", ref, exc.code)
            return False
        return True

    def _absorb(self, message: Message) -> None:
        """A message for no running operation: journal a late RES of ours, ignore the rest."""
        if isinstance(message, Result):
            try:
                record = self.journal.get(message.ref)
            except JournalError:
                _logger.info("result for a reference not in this journal ignored")
                return
            if not record.definite:
                self._final(message.ref, message, via="late RES")
            return
        _logger.debug("%s ignored (no operation waiting for it)", message.TYPE)

    def _commit(self, ref: str, state: JournalState, detail: str = "", **fields: object) -> PaymentRecord:
        record = self.journal.transition(ref, state, detail=detail, **fields)
        self._emit(PaymentStateChanged(ref, record.order_id, record.state))
        return record

    def _inquiries(self, ref: str, extra: int) -> int:
        return self.journal.get(ref).inquiries + extra

    def _emit(self, event: PaymentEvent) -> None:
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:
                _logger.exception("payment event handler failed")

    def _link(self) -> Link:
        if self.link is None:
            raise TerminalUnavailable("the payment line is not open")
        return self.link

    def _status_message(self) -> Message:
        return Status()


class _Definite(Exception):
    def __init__(self, record: PaymentRecord) -> None:
        super().__init__(record.ref)
        self.record = record
