"""Staff calls (`up/staff_call`, R-34): one row per call, kept after it ends so the history stays.

A call is `open` when the kiosk sends it, `acknowledged` when staff answer it in the web (who and when
are kept), and ends as `resolved` (staff closed it) or `cancelled` (the resident withdrew it at the
kiosk). Only open and acknowledged calls are live; rows are never deleted. The table is created with the
others by `FleetStore.create_schema()` (same `metadata`).
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Index,
    Integer,
    Row,
    String,
    Table,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from central_broker.store.schema import metadata
from madoguchi.contracts.staff_call import StaffCallMessage, StaffCallStatus

__all__ = ["CallState", "StaffCallRecord", "StaffCallStore", "staff_call"]

_logger = logging.getLogger(__name__)

staff_call = Table(
    "staff_call",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device_id", String(64), nullable=False),
    Column("call_id", String(64), nullable=False),
    Column("step", String(64), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("called_at", BigInteger, nullable=False),  # device ts of the call
    Column("received_at", BigInteger, nullable=False),  # central time it arrived
    Column("acknowledged_by", String(64), nullable=True),
    Column("acknowledged_at", BigInteger, nullable=True),
    Column("closed_by", String(64), nullable=True),  # a staff user, or "kiosk" when withdrawn there
    Column("closed_at", BigInteger, nullable=True),
    Column("changed_at", BigInteger, nullable=False),  # central time of the latest change (live updates)
    Index("ux_staff_call_device_call", "device_id", "call_id", unique=True),
    Index("ix_staff_call_state", "state"),
)


class CallState(enum.StrEnum):
    """Where a call stands at the centre."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"


LIVE = (CallState.OPEN.value, CallState.ACKNOWLEDGED.value)


@dataclass(frozen=True)
class StaffCallRecord:
    """One call as the centre knows it (no personal data: kiosk, step, reason code and staff names)."""

    device_id: str
    call_id: str
    step: str
    reason: str
    state: CallState
    called_at: int
    received_at: int
    acknowledged_by: str | None
    acknowledged_at: int | None
    closed_by: str | None
    closed_at: int | None

    @property
    def live(self) -> bool:
        """True while staff still have to go (open or acknowledged)."""
        return self.state in (CallState.OPEN, CallState.ACKNOWLEDGED)


def _record(r: Row[Any]) -> StaffCallRecord:
    return StaffCallRecord(
        device_id=r.device_id,
        call_id=r.call_id,
        step=r.step,
        reason=r.reason,
        state=CallState(r.state),
        called_at=r.called_at,
        received_at=r.received_at,
        acknowledged_by=r.acknowledged_by,
        acknowledged_at=r.acknowledged_at,
        closed_by=r.closed_by,
        closed_at=r.closed_at,
    )


class StaffCallStore:
    """Mixed into `FleetStore` (which provides `engine` and `now_ms`)."""

    engine: Engine

    def now_ms(self) -> int:  # pragma: no cover - provided by FleetStore
        raise NotImplementedError

    def record_staff_call(self, device_id: str, message: StaffCallMessage) -> str:
        """Apply an `up/staff_call`; returns `called`, `cancelled` or `ignored` (a redelivery)."""
        now = self.now_ms()
        same = (staff_call.c.device_id == device_id) & (staff_call.c.call_id == message.call_id)
        with self.engine.begin() as conn:
            found = conn.execute(select(staff_call.c.state).where(same)).first()
            if message.status is StaffCallStatus.CALLED:
                if found is not None:
                    return "ignored"
                try:
                    with conn.begin_nested():
                        conn.execute(
                            staff_call.insert().values(
                                device_id=device_id, call_id=message.call_id, step=message.step,
                                reason=message.reason, state=CallState.OPEN.value, called_at=message.ts,
                                received_at=now, changed_at=now,
                            )
                        )  # fmt: skip
                except IntegrityError:  # another ingest worker stored it a moment ago
                    return "ignored"
                _logger.warning("%s: staff called at %s (%s)", device_id, message.step, message.reason)
                return "called"
            if found is None:  # the withdrawal overtook the call: keep it, already ended
                conn.execute(
                    staff_call.insert().values(
                        device_id=device_id, call_id=message.call_id, step=message.step,
                        reason=message.reason, state=CallState.CANCELLED.value, called_at=message.ts,
                        received_at=now, closed_by="kiosk", closed_at=now, changed_at=now,
                    )
                )  # fmt: skip
                return "cancelled"
            result = conn.execute(
                update(staff_call)
                .where(same & staff_call.c.state.in_(LIVE))
                .values(state=CallState.CANCELLED.value, closed_by="kiosk", closed_at=now, changed_at=now)
            )
        if result.rowcount:
            _logger.info("%s: staff call %s withdrawn at the kiosk", device_id, message.call_id)
            return "cancelled"
        return "ignored"

    def staff_call(self, device_id: str, call_id: str) -> StaffCallRecord | None:
        """One call."""
        same = (staff_call.c.device_id == device_id) & (staff_call.c.call_id == call_id)
        with self.engine.connect() as conn:
            row = conn.execute(select(staff_call).where(same)).first()
        return None if row is None else _record(row)

    def staff_calls(self, *, live: bool = True, limit: int = 200) -> list[StaffCallRecord]:
        """Live calls, oldest first; or (`live=False`) ended calls, latest first."""
        if live:
            query = select(staff_call).where(staff_call.c.state.in_(LIVE)).order_by(staff_call.c.id)
        else:
            query = select(staff_call).where(staff_call.c.state.not_in(LIVE)).order_by(staff_call.c.id.desc())
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(limit)).all()
        return [_record(r) for r in rows]

    def acknowledge_staff_call(self, device_id: str, call_id: str, who: str) -> StaffCallRecord | None:
        """Staff answered an open call (None when it is not open any more)."""
        return self._change(device_id, call_id, (CallState.OPEN.value,), state=CallState.ACKNOWLEDGED.value,
                            acknowledged_by=who[:64], acknowledged_at=self.now_ms())  # fmt: skip

    def resolve_staff_call(self, device_id: str, call_id: str, who: str) -> StaffCallRecord | None:
        """Staff dealt with a live call (None when it had already ended)."""
        return self._change(device_id, call_id, LIVE, state=CallState.RESOLVED.value, closed_by=who[:64],
                            closed_at=self.now_ms())  # fmt: skip

    def _change(
        self, device_id: str, call_id: str, states: tuple[str, ...], **values: object
    ) -> StaffCallRecord | None:
        same = (staff_call.c.device_id == device_id) & (staff_call.c.call_id == call_id)
        with self.engine.begin() as conn:
            result = conn.execute(
                update(staff_call)
                .where(same & staff_call.c.state.in_(states))
                .values(changed_at=self.now_ms(), **values)
            )
        return self.staff_call(device_id, call_id) if result.rowcount else None

    def staff_calls_fingerprint(self) -> tuple[object, ...]:
        """Changes whenever a call is made, answered or ends (for live pages)."""
        query = select(func.count(), func.max(staff_call.c.changed_at), func.max(staff_call.c.id))
        with self.engine.connect() as conn:
            return tuple(conn.execute(query).one())
