"""Counters at a branch: opening and closing them, who is waiting, what is called (board), the journal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update

from central_broker.queue.issuing import Issuing
from central_broker.queue.models import (
    Desk,
    EventKind,
    QueueError,
    QueueErrorKind,
    QueueEvent,
    Staff,
    StopState,
    Visit,
)
from central_broker.queue.retry import retry_on_lock
from central_broker.queue.schema import queue_desk, queue_event, queue_stop, queue_visit

__all__ = ["BoardEntry", "DeskStatus", "Desks"]


@dataclass(frozen=True)
class DeskStatus:
    """A counter at a branch: open or not, who works it, the visit it has called."""

    desk: Desk
    is_open: bool
    staff: str | None
    visit_id: int | None
    number: str | None
    state: StopState | None  # CALLED or SERVING while it has a visit


@dataclass(frozen=True)
class BoardEntry:
    """A number on the waiting-room board."""

    number: str
    counter: str
    state: StopState
    called_at: int
    recalls: int


def _event(r: Row[Any]) -> QueueEvent:
    return QueueEvent(
        r.id, r.branch, r.day, r.at, EventKind(r.kind), r.visit_id, r.number, r.counter, r.actor, r.detail
    )


class Desks(Issuing):
    """Open and close counters; what staff, the board and live pages read."""

    def _check_branch(self, desk: Desk, staff: Staff) -> None:
        if staff.branch != desk.branch:
            raise QueueError(
                QueueErrorKind.OTHER_BRANCH,
                f"counter {desk.counter} of {desk.branch} cannot be worked from {staff.branch}",
                f"sign in at {desk.branch}, or choose a counter of {staff.branch}",
            )
        self._counter(desk.counter)

    def _lock_desk(self, conn: Connection, desk: Desk, staff: Staff) -> Row[Any]:
        self._check_branch(desk, staff)
        key = (queue_desk.c.branch == desk.branch) & (queue_desk.c.counter == desk.counter)
        row = conn.execute(select(queue_desk).where(key).with_for_update()).first()
        if row is None or not row.is_open:
            raise QueueError(
                QueueErrorKind.COUNTER_NOT_OPEN,
                f"counter {desk.counter} is not open at {desk.branch}",
                "open the counter first",
            )
        return row

    @staticmethod
    def _set_desk_visit(conn: Connection, desk: Desk, visit_id: int | None, now: int) -> None:
        key = (queue_desk.c.branch == desk.branch) & (queue_desk.c.counter == desk.counter)
        conn.execute(update(queue_desk).where(key).values(visit_id=visit_id, changed_at=now))

    @retry_on_lock
    def open_desk(self, desk: Desk, staff: Staff) -> None:
        """Open a counter for calling (idempotent; the latest staff member is recorded).

        Raises:
            QueueError: OTHER_BRANCH, UNKNOWN_COUNTER.
        """
        self._check_branch(desk, staff)
        now = self.now_ms()
        key = (queue_desk.c.branch == desk.branch) & (queue_desk.c.counter == desk.counter)
        with self._write() as conn:
            row = conn.execute(select(queue_desk).where(key).with_for_update()).first()
            if row is None:
                conn.execute(
                    insert(queue_desk).values(
                        branch=desk.branch,
                        counter=desk.counter,
                        is_open=1,
                        staff=staff.user[:64],
                        visit_id=None,
                        changed_at=now,
                    )
                )
            else:
                conn.execute(
                    update(queue_desk).where(key).values(is_open=1, staff=staff.user[:64], changed_at=now)
                )
            self._journal(
                conn,
                branch=desk.branch,
                day=self.today(now),
                at=now,
                kind=EventKind.DESK_OPENED,
                actor=staff.user,
                counter=desk.counter,
            )

    @retry_on_lock
    def close_desk(self, desk: Desk, staff: Staff) -> None:
        """Close a counter; refused while it has a visit called or being served.

        Raises:
            QueueError: OTHER_BRANCH, UNKNOWN_COUNTER, COUNTER_NOT_OPEN, WRONG_STATE.
        """
        now = self.now_ms()
        with self._write() as conn:
            row = self._lock_desk(conn, desk, staff)
            if row.visit_id is not None:
                number = self._load(conn, row.visit_id).number
                raise QueueError(
                    QueueErrorKind.WRONG_STATE,
                    f"{number} is still called at counter {desk.counter}",
                    "finish, transfer or mark it as a no-show first",
                )
            key = (queue_desk.c.branch == desk.branch) & (queue_desk.c.counter == desk.counter)
            conn.execute(update(queue_desk).where(key).values(is_open=0, changed_at=now))
            self._journal(
                conn,
                branch=desk.branch,
                day=self.today(now),
                at=now,
                kind=EventKind.DESK_CLOSED,
                actor=staff.user,
                counter=desk.counter,
            )

    def desks(self, branch: str) -> list[DeskStatus]:
        """Every counter that was ever opened at `branch`, by counter id."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(queue_desk, queue_visit.c.number, queue_stop.c.state.label("stop_state"))
                .select_from(
                    queue_desk.outerjoin(queue_visit, queue_visit.c.id == queue_desk.c.visit_id).outerjoin(
                        queue_stop,
                        (queue_stop.c.visit_id == queue_desk.c.visit_id)
                        & (queue_stop.c.counter == queue_desk.c.counter)
                        & queue_stop.c.state.in_((StopState.CALLED.value, StopState.SERVING.value)),
                    )
                )
                .where(queue_desk.c.branch == branch)
                .order_by(queue_desk.c.counter)
            ).all()
        return [
            DeskStatus(
                Desk(r.branch, r.counter),
                bool(r.is_open),
                r.staff,
                r.visit_id,
                r.number,
                None if r.stop_state is None else StopState(r.stop_state),
            )
            for r in rows
        ]

    def line(self, desk: Desk) -> list[Visit]:
        """Visits waiting at a counter today, first in line first."""
        with self.engine.connect() as conn:
            ids = conn.execute(
                select(queue_stop.c.visit_id)
                .where(
                    (queue_stop.c.branch == desk.branch)
                    & (queue_stop.c.day == self.today())
                    & (queue_stop.c.counter == desk.counter)
                    & (queue_stop.c.state == StopState.WAITING.value)
                )
                .order_by(queue_stop.c.entered_at, queue_stop.c.id)
            ).scalars()
            return [self._load(conn, i) for i in list(ids)]

    def board(self, branch: str) -> list[BoardEntry]:
        """Numbers called or being served at `branch` today, latest call first (the display board)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    queue_visit.c.number,
                    queue_stop.c.counter,
                    queue_stop.c.state,
                    queue_stop.c.called_at,
                    queue_stop.c.recalls,
                )
                .select_from(queue_stop.join(queue_visit, queue_visit.c.id == queue_stop.c.visit_id))
                .where(
                    (queue_stop.c.branch == branch)
                    & (queue_stop.c.day == self.today())
                    & queue_stop.c.state.in_((StopState.CALLED.value, StopState.SERVING.value))
                )
                .order_by(queue_stop.c.called_at.desc(), queue_stop.c.id.desc())
            ).all()
        return [BoardEntry(r.number, r.counter, StopState(r.state), r.called_at, r.recalls) for r in rows]

    def events(self, branch: str, *, after_id: int = 0, limit: int = 500) -> list[QueueEvent]:
        """Journal entries of a branch after `after_id`, oldest first (live pages follow the last id)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(queue_event)
                .where((queue_event.c.branch == branch) & (queue_event.c.id > after_id))
                .order_by(queue_event.c.id)
                .limit(limit)
            ).all()
        return [_event(r) for r in rows]

    def last_event_id(self, branch: str) -> int:
        """Id of the branch's latest journal entry (0: none): live pages start following from it."""
        with self.engine.connect() as conn:
            found = conn.execute(
                select(func.max(queue_event.c.id)).where(queue_event.c.branch == branch)
            ).scalar()
        return int(found or 0)

    def visit_events(self, visit_id: int) -> list[QueueEvent]:
        """The journal of one visit, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(queue_event).where(queue_event.c.visit_id == visit_id).order_by(queue_event.c.id)
            ).all()
        return [_event(r) for r in rows]
