"""The payment journal: SQLite in WAL mode with synchronous=FULL, one commit (fsync) per state.

Rules (reference §3, §4): the entry and its reference are committed before the first byte of a
financial command; every state change is committed before the driver acts on it; events are
append-only (triggers refuse UPDATE/DELETE); references are kiosk id + a counter that is
committed with the entry, so it survives reboots and is never reused.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from device_drivers.payment.clock import Clock, SystemClock
from device_drivers.payment.errors import AlreadyPaid, OrderBlocked, PaymentError
from device_drivers.payment.identifiers import validate_kiosk_id, validate_order_id
from device_drivers.payment.messages import Method, ResultCode
from device_drivers.payment.records import JournalState, Operation, PaymentRecord
from madoguchi.sqlite import connect_durable

__all__ = ["ALLOWED", "Journal", "JournalError"]

_logger = logging.getLogger(__name__)

S = JournalState
_RESULT_STATES = {S.APPROVED, S.DECLINED, S.CANCELLED, S.TIMEOUT, S.ERROR_NOT_CHARGED}
_FINAL_FROM_TERMINAL = _RESULT_STATES | {S.UNKNOWN}
ALLOWED: dict[JournalState, frozenset[JournalState]] = {
    S.CREATED: frozenset({S.SENDING, S.FAILED_NOT_SENT}),
    S.SENDING: frozenset({S.ACCEPTED, S.IN_PROGRESS} | _FINAL_FROM_TERMINAL),
    S.ACCEPTED: frozenset({S.IN_PROGRESS} | _FINAL_FROM_TERMINAL),
    S.IN_PROGRESS: frozenset(_FINAL_FROM_TERMINAL),
    S.UNKNOWN: frozenset(_RESULT_STATES | {S.RECONCILED}),
    **{state: frozenset({S.CONFIRMED}) for state in _RESULT_STATES},
    S.FAILED_NOT_SENT: frozenset(),
    S.CONFIRMED: frozenset(),
    S.RECONCILED: frozenset(),
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
INSERT OR IGNORE INTO counter (id, value) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS payments (
    ref TEXT PRIMARY KEY, kiosk_id TEXT NOT NULL, register_no TEXT, order_id TEXT NOT NULL,
    op TEXT NOT NULL, amount INTEGER NOT NULL, currency TEXT NOT NULL, method TEXT NOT NULL,
    state TEXT NOT NULL, result TEXT, orig_ref TEXT, orig_txn TEXT, res_amount INTEGER, res_method TEXT,
    brand TEXT, masked_id TEXT, auth_code TEXT, txn_id TEXT, term_time TEXT, resp_code TEXT,
    bal_before INTEGER, bal_after INTEGER, tries INTEGER NOT NULL DEFAULT 0,
    naks INTEGER NOT NULL DEFAULT 0, inquiries INTEGER NOT NULL DEFAULT 0, last_error TEXT,
    terminal_id TEXT, firmware TEXT, reconciled_by TEXT, reconciled_how TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS payments_order ON payments (order_id);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ref TEXT NOT NULL REFERENCES payments (ref),
    state TEXT NOT NULL, wall TEXT NOT NULL, mono REAL NOT NULL, detail TEXT NOT NULL DEFAULT ''
);
CREATE TRIGGER IF NOT EXISTS events_append_only_u BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'payment journal events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_append_only_d BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'payment journal events are append-only'); END;
"""

_FIELDS = {f.name for f in dataclasses.fields(PaymentRecord)}
_UPDATABLE = _FIELDS - {"ref", "kiosk_id", "order_id", "op", "amount", "currency", "method", "created_at"}


class JournalError(PaymentError):
    """The journal cannot be used or a state change is not allowed."""

    code = "payment.journal"
    message_key = "payment_contact_staff"


class Journal:
    """The durable payment journal of one kiosk.

    Args:
        path: SQLite file (created if absent).
        kiosk_id: e.g. ``jp-131016-k03``; prefix of every reference (`InvalidKioskId` if unusable).
        register_no: register number for semi-self registers.
        clock: wall and monotonic time stamps.
        after_commit: called with (ref, state) after each state commit (diagnostics, tests).
    """

    def __init__(
        self,
        path: Path,
        kiosk_id: str,
        register_no: str | None = None,
        clock: Clock | None = None,
        after_commit: Callable[[str, JournalState], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.kiosk_id = validate_kiosk_id(kiosk_id)
        self.register_no = register_no
        self.clock = clock or SystemClock()
        self.after_commit = after_commit
        self.commits = 0
        self._lock = threading.RLock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = connect_durable(self.path, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open payment journal {self.path}: {exc}") from exc

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    # --- writing -------------------------------------------------------------------------------
    def begin(
        self,
        order_id: str,
        op: Operation,
        amount: int,
        method: Method,
        currency: str = "JPY",
        orig_ref: str | None = None,
        orig_txn: str | None = None,
    ) -> PaymentRecord:
        """Allocate the next reference and journal the entry as CREATED, in one fsynced commit."""
        with self._lock:
            if op is Operation.SALE:
                validate_order_id(order_id)
                self.check_order(order_id)
            now = self._wall()
            self._db.execute("BEGIN IMMEDIATE")
            try:
                value = self._db.execute("UPDATE counter SET value = value + 1 RETURNING value").fetchone()[0]
                ref = f"{self.kiosk_id}-{value:010d}"
                self._db.execute(
                    "INSERT INTO payments (ref, kiosk_id, register_no, order_id, op, amount, currency, method,"
                    " state, orig_ref, orig_txn, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        ref,
                        self.kiosk_id,
                        self.register_no,
                        order_id,
                        op.value,
                        amount,
                        currency,
                        method.value,
                        S.CREATED.value,
                        orig_ref,
                        orig_txn,
                        now,
                        now,
                    ),
                )
                self._event(ref, S.CREATED, now, "")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self.commits += 1
        _logger.info("payment %s journaled: CREATED for order %s, %d yen", ref, order_id, amount)
        self._after(ref, S.CREATED)
        return self.get(ref)

    def transition(self, ref: str, state: JournalState, detail: str = "", **fields: object) -> PaymentRecord:
        """Commit `state` (and record fields) for `ref`; a repeat of the current state changes nothing."""
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise JournalError(f"not journal fields: {sorted(unknown)}")
        with self._lock:
            current = self.get(ref)
            if current.state is state and not fields:
                return current
            if state is not current.state and state not in ALLOWED[current.state]:
                raise JournalError(f"{ref}: {current.state} -> {state} is not an allowed journal transition")
            now = self._wall()
            values = {**fields, "state": state.value, "updated_at": now}
            values = {k: (v.value if hasattr(v, "value") else v) for k, v in values.items()}
            assignments = ", ".join(f"{k} = ?" for k in values)
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(f"UPDATE payments SET {assignments} WHERE ref = ?", (*values.values(), ref))  # noqa: S608
                if state is not current.state:
                    self._event(ref, state, now, detail)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self.commits += 1
        if state is not current.state:
            _logger.info("payment %s journaled: %s", ref, state.value)
            self._after(ref, state)
        return self.get(ref)

    def reconcile(self, ref: str, charged: bool, who: str, how: str) -> PaymentRecord:
        """Staff resolve an UNKNOWN payment: charged or not, who decided and how they checked."""
        if not who.strip() or not how.strip():
            raise JournalError(
                "say who reconciles and how it was checked (terminal history, acquirer portal)"
            )
        record = self.get(ref)
        if record.state is not S.UNKNOWN:
            raise JournalError(f"{ref} is {record.state.value}; only UNKNOWN payments are reconciled")
        result = ResultCode.APPROVED if charged else ResultCode.ERROR_NOT_CHARGED
        return self.transition(
            ref, S.RECONCILED, detail=f"by {who}: {how}", result=result, reconciled_by=who, reconciled_how=how
        )

    # --- reading -------------------------------------------------------------------------------
    def get(self, ref: str) -> PaymentRecord:
        """The record for exactly `ref`."""
        with self._lock:
            row = self._db.execute("SELECT * FROM payments WHERE ref = ?", (ref,)).fetchone()
        if row is None:
            raise JournalError(f"no payment with reference {ref!r} in the journal")
        return _record(row)

    def records(self, order_id: str | None = None, unresolved: bool = False) -> list[PaymentRecord]:
        """Records in creation order, optionally of one order or only those not definite."""
        query, args = "SELECT * FROM payments", []
        if order_id is not None:
            query, args = query + " WHERE order_id = ?", [order_id]
        with self._lock:
            rows = self._db.execute(query + " ORDER BY created_at, ref", args).fetchall()
        found = [_record(row) for row in rows]
        return [r for r in found if not r.definite] if unresolved else found

    def events(self, ref: str) -> list[tuple[JournalState, str, float, str]]:
        """(state, wall time, monotonic time, detail) of every change of `ref`, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT state, wall, mono, detail FROM events WHERE ref = ? ORDER BY id", (ref,)
            ).fetchall()
        return [(S(r["state"]), r["wall"], r["mono"], r["detail"]) for r in rows]

    def check_order(self, order_id: str) -> None:
        """Refuse a new payment while the order is paid or has a payment of unknown outcome."""
        records = self.records(order_id=order_id)
        for record in records:
            if not record.definite:
                raise OrderBlocked(
                    f"order {order_id} has payment {record.ref} in state {record.state.value}; "
                    "staff must resolve it (kiosk payment journal --unresolved) before a new payment"
                )
        paid = self.paid_by(order_id)
        if paid is not None:
            raise AlreadyPaid(f"order {order_id} is already paid by {paid.ref}")

    def paid_by(self, order_id: str) -> PaymentRecord | None:
        """The approved, not voided sale of `order_id`, if there is one."""
        records = self.records(order_id=order_id)
        voided = {r.orig_ref for r in records if r.op is Operation.VOID and r.result is ResultCode.APPROVED}
        for record in records:
            if record.op is Operation.SALE and record.paid and record.ref not in voided:
                return record
        return None

    def _event(self, ref: str, state: JournalState, wall: str, detail: str) -> None:
        self._db.execute(
            "INSERT INTO events (ref, state, wall, mono, detail) VALUES (?,?,?,?,?)",
            (ref, state.value, wall, self.clock.monotonic(), detail),
        )

    def _wall(self) -> str:
        return self.clock.wall().isoformat(timespec="milliseconds")

    def _after(self, ref: str, state: JournalState) -> None:
        if self.after_commit is not None:
            self.after_commit(ref, state)


def _record(row: sqlite3.Row) -> PaymentRecord:
    data = {key: row[key] for key in row.keys() if key in _FIELDS}  # noqa: SIM118 - sqlite3.Row iterates values
    data["op"] = Operation(data["op"])
    data["method"] = Method(data["method"])
    data["state"] = JournalState(data["state"])
    data["result"] = ResultCode(data["result"]) if data["result"] else None
    return PaymentRecord(**data)
