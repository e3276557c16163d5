"""Counter staff operations: call next, recall, no-show, start, done (→ next counter), finish.

Each operation is one write transaction that locks the counter's desk row (and the visit row),
changes the state and journals it. A counter holds at most one visit called or being served.
`visit_id`, when given, must be the visit the counter holds (a stale page acts on nothing else).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection, Row, func, select, update

from central_broker.queue.desks import Desks
from central_broker.queue.models import (
    Desk,
    EventKind,
    NoShowPolicy,
    QueueError,
    QueueErrorKind,
    Staff,
    Stop,
    StopState,
    Visit,
    VisitState,
)
from central_broker.queue.retry import retry_on_lock
from central_broker.queue.schema import queue_stop, queue_visit

__all__ = ["ACTIVE_STOPS", "StaffOperations", "ended_error"]

_logger = logging.getLogger(__name__)

ACTIVE_STOPS = (StopState.WAITING.value, StopState.CALLED.value, StopState.SERVING.value)


def ended_error(visit: Visit) -> QueueError:
    """The refusal for acting on a finished or cancelled visit."""
    return QueueError(
        QueueErrorKind.VISIT_ENDED,
        f"{visit.number} is already {visit.state.value}",
        "issue a new ticket if the resident needs another counter",
    )


class StaffOperations(Desks):
    """What counter staff do; every method returns the visit as it is afterwards."""

    def _held(self, conn: Connection, desk: Desk, staff: Staff, visit_id: int | None) -> tuple[Visit, Stop]:
        row = self._lock_desk(conn, desk, staff)
        if row.visit_id is None:
            raise QueueError(
                QueueErrorKind.NOTHING_CALLED,
                f"counter {desk.counter} has nobody called",
                "call the next number first",
            )
        if visit_id is not None and visit_id != row.visit_id:
            raise QueueError(
                QueueErrorKind.WRONG_STATE,
                f"counter {desk.counter} now holds another visit",
                "reload the page",
            )
        visit = self._load(conn, row.visit_id, lock=True)
        stop = visit.current
        if visit.state is not VisitState.ACTIVE or stop is None or stop.counter != desk.counter:
            raise ended_error(visit)
        return visit, stop

    @staticmethod
    def _update_stop(conn: Connection, visit: Visit, stop: Stop, **values: Any) -> None:
        conn.execute(
            update(queue_stop)
            .where((queue_stop.c.visit_id == visit.id) & (queue_stop.c.seq == stop.seq))
            .values(**values)
        )

    @staticmethod
    def _touch(conn: Connection, visit: Visit, now: int, **values: Any) -> None:
        conn.execute(update(queue_visit).where(queue_visit.c.id == visit.id).values(changed_at=now, **values))

    def _log(
        self,
        conn: Connection,
        visit: Visit,
        kind: EventKind,
        now: int,
        staff: Staff,
        counter: str | None,
        detail: str = "",
    ) -> None:
        self._journal(
            conn,
            branch=visit.branch,
            day=visit.day,
            at=now,
            kind=kind,
            actor=staff.user,
            visit_id=visit.id,
            number=visit.number,
            counter=counter,
            detail=detail,
        )

    @retry_on_lock
    def call_next(self, desk: Desk, staff: Staff) -> Visit | None:
        """Call the first visit in the counter's line (FIFO by the time it joined); None when nobody waits.

        Raises:
            QueueError: OTHER_BRANCH, UNKNOWN_COUNTER, COUNTER_NOT_OPEN, DOUBLE_CALL.
        """
        now = self.now_ms()
        with self._write() as conn:
            row = self._lock_desk(conn, desk, staff)
            if row.visit_id is not None:
                held = self._load(conn, row.visit_id)
                raise QueueError(
                    QueueErrorKind.DOUBLE_CALL,
                    f"{held.number} is already called at counter {desk.counter}",
                    "finish it, recall it or mark it as a no-show before calling the next number",
                )
            first: Row[Any] | None = conn.execute(
                select(queue_stop.c.visit_id)
                .where(
                    (queue_stop.c.branch == desk.branch)
                    & (queue_stop.c.day == self.today(now))
                    & (queue_stop.c.counter == desk.counter)
                    & (queue_stop.c.state == StopState.WAITING.value)
                )
                .order_by(queue_stop.c.entered_at, queue_stop.c.id)
                .limit(1)
            ).first()
            if first is None:
                return None
            visit = self._load(conn, first.visit_id, lock=True)
            stop = visit.current
            assert stop is not None and stop.state is StopState.WAITING
            self._update_stop(
                conn,
                visit,
                stop,
                state=StopState.CALLED.value,
                called_at=now,
                recalls=0,
                first_called_at=func.coalesce(queue_stop.c.first_called_at, now),
            )
            self._touch(conn, visit, now)
            self._set_desk_visit(conn, desk, visit.id, now)
            self._log(conn, visit, EventKind.CALLED, now, staff, desk.counter)
            _logger.info("queue %s: %s called at %s", desk.branch, visit.number, desk.counter)
            return self._load(conn, visit.id)

    @retry_on_lock
    def recall(self, desk: Desk, staff: Staff, *, visit_id: int | None = None) -> Visit:
        """Call the held number again (board and chime repeat).

        Raises:
            QueueError: COUNTER_NOT_OPEN, NOTHING_CALLED, WRONG_STATE (already being served), …
        """
        now = self.now_ms()
        with self._write() as conn:
            visit, stop = self._held(conn, desk, staff, visit_id)
            if stop.state is not StopState.CALLED:
                raise QueueError(
                    QueueErrorKind.WRONG_STATE,
                    f"{visit.number} is already being served",
                    "press done or transfer",
                )
            self._update_stop(conn, visit, stop, called_at=now, recalls=stop.recalls + 1)
            self._touch(conn, visit, now)
            self._log(conn, visit, EventKind.RECALLED, now, staff, desk.counter, detail=str(stop.recalls + 1))
            return self._load(conn, visit.id)

    @retry_on_lock
    def no_show(self, desk: Desk, staff: Staff, *, visit_id: int | None = None) -> Visit:
        """The called resident did not come after the allowed recalls: back of the line, or cancelled.

        Raises:
            QueueError: WRONG_STATE (recalls left, or already being served), NOTHING_CALLED, …
        """
        now = self.now_ms()
        with self._write() as conn:
            visit, stop = self._held(conn, desk, staff, visit_id)
            if stop.state is not StopState.CALLED:
                raise QueueError(
                    QueueErrorKind.WRONG_STATE,
                    f"{visit.number} is already being served",
                    "press done or transfer",
                )
            needed = self.config.no_show_recalls
            if stop.recalls < needed:
                raise QueueError(
                    QueueErrorKind.WRONG_STATE,
                    f"{visit.number} has been recalled {stop.recalls} of {needed} times",
                    "recall the number before marking a no-show",
                )
            self._log(
                conn, visit, EventKind.NO_SHOW, now, staff, desk.counter, detail=self.config.no_show_policy
            )
            self._set_desk_visit(conn, desk, None, now)
            if self.config.no_show_policy is NoShowPolicy.REQUEUE:
                self._update_stop(
                    conn,
                    visit,
                    stop,
                    state=StopState.WAITING.value,
                    entered_at=self._back_of_line(conn, visit.branch, visit.day, stop.counter, now),
                    called_at=None,
                    recalls=0,
                )
                self._touch(conn, visit, now)
                self._log(conn, visit, EventKind.REQUEUED, now, staff, desk.counter)
            else:
                self._end(conn, visit, VisitState.CANCELLED, now)
                self._log(conn, visit, EventKind.CANCELLED, now, staff, desk.counter, detail="no_show")
            _logger.info("queue %s: %s no-show at %s", desk.branch, visit.number, desk.counter)
            return self._load(conn, visit.id)

    @retry_on_lock
    def start(self, desk: Desk, staff: Staff, *, visit_id: int | None = None) -> Visit:
        """The resident arrived: service starts.

        Raises:
            QueueError: WRONG_STATE (already started), NOTHING_CALLED, …
        """
        now = self.now_ms()
        with self._write() as conn:
            visit, stop = self._held(conn, desk, staff, visit_id)
            if stop.state is not StopState.CALLED:
                raise QueueError(QueueErrorKind.WRONG_STATE, f"{visit.number} is already being served")
            self._update_stop(conn, visit, stop, state=StopState.SERVING.value, started_at=now)
            self._touch(conn, visit, now)
            self._log(conn, visit, EventKind.STARTED, now, staff, desk.counter)
            return self._load(conn, visit.id)

    @retry_on_lock
    def done(self, desk: Desk, staff: Staff, *, visit_id: int | None = None) -> Visit:
        """Service at this counter is over: the visit joins its next counter's line, or is finished.

        Raises:
            QueueError: NOTHING_CALLED, VISIT_ENDED, …
        """
        now = self.now_ms()
        with self._write() as conn:
            visit = self._close_stop(conn, desk, staff, visit_id, now)
            self._advance(conn, visit, now, staff)
            return self._load(conn, visit.id)

    def _close_stop(
        self, conn: Connection, desk: Desk, staff: Staff, visit_id: int | None, now: int
    ) -> Visit:
        """Mark the visit held at `desk` done there and free the desk (journaled); returns the visit."""
        visit, stop = self._held(conn, desk, staff, visit_id)
        self._update_stop(
            conn,
            visit,
            stop,
            state=StopState.DONE.value,
            done_at=now,
            started_at=stop.started_at or stop.called_at or now,
        )
        self._set_desk_visit(conn, desk, None, now)
        self._log(conn, visit, EventKind.DONE, now, staff, desk.counter)
        return visit

    def _advance(self, conn: Connection, visit: Visit, now: int, staff: Staff) -> None:
        pending = [s for s in visit.stops if s.state is StopState.PENDING]
        if pending:
            nxt = pending[0]
            entered = self._back_of_line(conn, visit.branch, visit.day, nxt.counter, now)
            self._update_stop(
                conn, visit, nxt, state=StopState.WAITING.value, entered_at=entered, joined_at=now
            )
            self._touch(conn, visit, now)
            self._log(conn, visit, EventKind.MOVED, now, staff, nxt.counter)
        else:
            self._end(conn, visit, VisitState.FINISHED, now)
            self._log(conn, visit, EventKind.FINISHED, now, staff, None)

    def _end(self, conn: Connection, visit: Visit, state: VisitState, now: int) -> None:
        conn.execute(
            update(queue_stop)
            .where(
                (queue_stop.c.visit_id == visit.id)
                & queue_stop.c.state.in_((StopState.PENDING.value, *ACTIVE_STOPS))
            )
            .values(state=StopState.SKIPPED.value)
        )
        self._touch(conn, visit, now, state=state.value, ended_at=now)
        for hook in self.visit_end_hooks:
            hook(conn, visit.id)

    @retry_on_lock
    def finish(self, desk: Desk, staff: Staff, *, visit_id: int | None = None) -> Visit:
        """Done here and nothing more: later counters are dropped, the visit is finished."""
        now = self.now_ms()
        with self._write() as conn:
            visit = self._close_stop(conn, desk, staff, visit_id, now)
            self._end(conn, visit, VisitState.FINISHED, now)
            self._log(conn, visit, EventKind.FINISHED, now, staff, desk.counter)
            return self._load(conn, visit.id)
