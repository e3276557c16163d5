"""The payment terminal driver facade used by the kiosk app: one method per operation, one at a time.

terminal = PaymentTerminal(port_from_url(url), Journal(path, kiosk_id))
terminal.open()                        # STS, then recovery of anything left unresolved
record = terminal.sale("order-42", 300, Method.CREDIT, on_event=queue.put)
if record.paid: ...                    # only after APPROVED is journaled
elif record.needs_staff: ...           # UNKNOWN: "please contact staff", never "failed"
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from device_drivers.payment.clock import JST, Clock, SystemClock
from device_drivers.payment.codec import Codec, Timers
from device_drivers.payment.errors import InvalidAmount, PaymentBusy, TerminalUnavailable, VoidRefused
from device_drivers.payment.identifiers import validate_order_id
from device_drivers.payment.journal import Journal
from device_drivers.payment.kpl import KplCodec
from device_drivers.payment.messages import (
    Inquiry,
    Method,
    ResultCode,
    Sale,
    StatusReply,
    TerminalState,
    Void,
)
from device_drivers.payment.records import JournalState, Operation, PaymentEvent, PaymentRecord
from device_drivers.payment.session import PortSource, Session

__all__ = ["PROTOCOL_MAX_YEN", "PaymentTerminal", "TerminalStatus", "validate_amount"]

_logger = logging.getLogger(__name__)
PROTOCOL_MAX_YEN = 99_999_999  # 8 digits on the wire
DEFAULT_MAX_YEN = 1_000_000  # kiosk policy default; configurable per kiosk


def validate_amount(amount: object, max_yen: int = DEFAULT_MAX_YEN) -> int:
    """Whole yen, 1..max_yen; anything else raises `InvalidAmount` saying what is wrong."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidAmount(
            f"amount must be a whole number of yen (an integer), got {amount!r}; yen has no minor unit"
        )
    if amount <= 0:
        raise InvalidAmount(f"amount must be at least 1 yen, got {amount}")
    limit = min(max_yen, PROTOCOL_MAX_YEN)
    if amount > limit:
        raise InvalidAmount(f"amount {amount} yen is over this kiosk's limit of {limit} yen")
    return amount


@dataclass(frozen=True)
class TerminalStatus:
    """Answer of a status check (STS only)."""

    state: TerminalState
    terminal_id: str | None
    busy_ref: str | None
    port: str


class PaymentTerminal:
    """The kiosk's payment terminal.

    Args:
        source: opens the port by its stable path (see `transport.port_from_url`).
        journal: the durable payment journal.
        codec: the terminal protocol (KPL v1 by default).
        clock: timers and time stamps.
        timers: overrides the codec's timers.
        max_yen: highest amount accepted for one payment.
    """

    def __init__(
        self,
        source: PortSource,
        journal: Journal,
        codec: Codec | None = None,
        clock: Clock | None = None,
        timers: Timers | None = None,
        max_yen: int = DEFAULT_MAX_YEN,
    ) -> None:
        self.codec: Codec = codec or KplCodec()
        self.clock = clock or SystemClock()
        self.journal = journal
        self.max_yen = max_yen
        self.session = Session(source, journal, self.codec, self.clock, timers)
        self._busy = threading.Lock()

    def __enter__(self) -> PaymentTerminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self, recover: bool = True) -> list[PaymentRecord]:
        """Open the port, STS, and (by default) resolve every unresolved journal entry.

        Returns:
            the entries that were unresolved before opening, as they are now.
        """
        with self._operation():
            pending = [r.ref for r in self.journal.records(unresolved=True)]
            self.session.connect()  # a late RES read during STS is journaled here already
            if not recover:
                return []
            self._recover_all()
            return [self.journal.get(ref) for ref in pending]

    def close(self) -> None:
        """Close the port and anything the port source owns."""
        self.session.disconnect()
        self.session.source.close()

    def status(self) -> TerminalStatus:
        """Status check: STS only; it never creates or changes a transaction."""
        with self._operation():
            reply = self.session.connect() if self.session.link is None else self._status_once()
        return TerminalStatus(reply.state, reply.terminal_id, reply.busy_ref, self.session.source.description)

    def _status_once(self) -> StatusReply:
        try:
            return self.session.status()
        except Exception:
            self.session.disconnect()
            return self.session.connect()

    def sale(
        self,
        order_id: str,
        amount: int,
        method: Method,
        on_event: Callable[[PaymentEvent], None] | None = None,
    ) -> PaymentRecord:
        """Take one payment for `order_id`; returns the journaled outcome (check `.paid`/`.needs_staff`)."""
        amount = validate_amount(amount, self.max_yen)
        method = Method(method)
        validate_order_id(order_id)  # refused before anything is journaled or sent
        with self._operation():
            self.journal.check_order(order_id)  # blocked or already paid: refused before anything is sent
            self._ready()
            record = self.journal.begin(order_id, Operation.SALE, amount, method)
            return self.session.run(record, Sale(record.ref, amount, "JPY", method), on_event)

    def abort(self) -> None:
        """Ask the terminal to abort the running payment (a request: a racing approval stands)."""
        self.session.request_abort()

    def void(
        self, orig_ref: str, staff: str, on_event: Callable[[PaymentEvent], None] | None = None
    ) -> PaymentRecord:
        """Staff only: void a same-day definite approval, by its exact reference."""
        if not staff.strip():
            raise VoidRefused("say which staff member voids the payment")
        with self._operation():
            orig = self.journal.get(orig_ref)
            self._check_voidable(orig)
            self._ready()
            record = self.journal.begin(
                orig.order_id,
                Operation.VOID,
                orig.amount,
                orig.method,
                orig_ref=orig.ref,
                orig_txn=orig.txn_id,
            )
            _logger.info("void of %s requested by staff", orig.ref)
            message = Void(record.ref, orig.ref, orig.txn_id or "", orig.amount)
            return self.session.run(record, message, on_event)

    def recover(self) -> list[PaymentRecord]:
        """Resolve unresolved journal entries by inquiry (start-up, after a link loss)."""
        with self._operation():
            return self._recover_all()

    def _recover_all(self) -> list[PaymentRecord]:
        done = []
        for record in self.journal.records(unresolved=True):
            if record.state is JournalState.CREATED:
                # SENDING is committed before the first byte: a CREATED entry never reached the line.
                done.append(
                    self.journal.transition(record.ref, JournalState.FAILED_NOT_SENT, detail="recovery")
                )
                continue
            if not self._sendable(record.ref):
                done.append(self._unsendable(record))
                continue
            if self.session.link is None:
                with suppress(TerminalUnavailable):
                    self.session.connect()
            budget = 0.0 if record.state is JournalState.UNKNOWN else None
            done.append(self.session.recover(record.ref, f"recovery of {record.state.value}", budget=budget))
        return done

    def _sendable(self, ref: str) -> bool:
        try:
            self.codec.encode(0, Inquiry(ref))
        except ValueError:
            return False
        return True

    def _unsendable(self, record: PaymentRecord) -> PaymentRecord:
        """A reference the codec refuses (journaled by a version that did not check the kiosk id).

        No frame carrying it can have left the kiosk, but after SENDING only a definite answer or
        UNKNOWN may follow (§3.2): UNKNOWN, with the reason, so staff reconcile it instead of every
        recovery failing on it.
        """
        if record.state is JournalState.UNKNOWN:
            return record
        _logger.warning("payment %s: reference cannot be sent to the terminal; UNKNOWN for staff", record.ref)
        return self.journal.transition(
            record.ref,
            JournalState.UNKNOWN,
            detail="recovery: reference cannot be sent",
            result=ResultCode.UNKNOWN,
            last_error=(
                "the reference has characters the terminal link cannot carry, so no frame with it was "
                "sent; staff: reconcile as not-charged after checking the terminal history"
            ),
        )

    def _check_voidable(self, orig: PaymentRecord) -> None:
        if orig.op is not Operation.SALE or not orig.paid:
            raise VoidRefused(
                f"{orig.ref} is not a definite approval ({orig.state.value}); it cannot be voided"
            )
        voids = [r for r in self.journal.records(order_id=orig.order_id) if r.orig_ref == orig.ref]
        if any(r.result is ResultCode.APPROVED or not r.definite for r in voids):
            raise VoidRefused(f"{orig.ref} is already voided or a void of it is unresolved")
        today = self.clock.wall().astimezone(JST).strftime("%Y%m%d")
        day = (
            orig.term_time[:8]
            if orig.term_time
            else dt.datetime.fromisoformat(orig.created_at).astimezone(JST).strftime("%Y%m%d")
        )
        if day != today:
            raise VoidRefused(f"{orig.ref} was approved on {day}; only same-day approvals are voided here")
        if not orig.txn_id:
            raise VoidRefused(f"{orig.ref} has no terminal transaction id to void")

    def _ready(self) -> None:
        reply = self.session.connect() if self.session.link is None else self._status_once()
        if reply.state is TerminalState.BUSY:
            raise PaymentBusy(f"the terminal is busy with {reply.busy_ref or 'another operation'}")
        if reply.state is not TerminalState.READY:
            raise TerminalUnavailable(f"the terminal reports {reply.state.value}")

    @contextmanager
    def _operation(self) -> Iterator[None]:
        if not self._busy.acquire(blocking=False):
            raise PaymentBusy("another payment operation is running; one operation at a time")
        try:
            yield
        finally:
            self._busy.release()
