"""Changing a visit's route: transfer to another counter, add a counter, cancel the visit.

Like `staff`, each is one write transaction that journals itself. Locks are taken desk first, then
visit (the order `call_next` and `done` use), so concurrent staff actions cannot deadlock.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from central_broker.queue.models import (
    Desk,
    EventKind,
    QueueError,
    QueueErrorKind,
    Staff,
    StopState,
    Visit,
    VisitState,
)
from central_broker.queue.retry import retry_on_lock
from central_broker.queue.schema import queue_desk, queue_stop
from central_broker.queue.staff import ACTIVE_STOPS, StaffOperations, ended_error

__all__ = ["Routing"]


class Routing(StaffOperations):
    """Transfer, add a counter, cancel."""

    def _insert_after(self, conn: Connection, visit: Visit, after_seq: int, counter: str) -> int:
        """Put `counter` into the route right after `after_seq` (later stops shift by one); its seq."""
        later = (queue_stop.c.visit_id == visit.id) & (queue_stop.c.seq > after_seq)
        conn.execute(update(queue_stop).where(later).values(seq=queue_stop.c.seq + 10000))
        conn.execute(
            update(queue_stop)
            .where((queue_stop.c.visit_id == visit.id) & (queue_stop.c.seq > 10000))
            .values(seq=queue_stop.c.seq - 9999)
        )
        department = self._counter(counter).department
        self._insert_stops_at(conn, visit, after_seq + 1, counter, department)
        return after_seq + 1

    @staticmethod
    def _insert_stops_at(conn: Connection, visit: Visit, seq: int, counter: str, department: str) -> None:
        conn.execute(
            queue_stop.insert().values(
                visit_id=visit.id,
                seq=seq,
                branch=visit.branch,
                day=visit.day,
                counter=counter,
                department=department,
                state=StopState.PENDING.value,
                recalls=0,
            )
        )

    @retry_on_lock
    def transfer(self, desk: Desk, staff: Staff, to_counter: str, *, visit_id: int | None = None) -> Visit:
        """Send the held visit to another counter now (it joins that line; later counters stay after it).

        A visit only called here is SKIPPED at this counter; one already being served is DONE here.

        Raises:
            QueueError: UNKNOWN_COUNTER, NOTHING_CALLED, INVALID (same counter), …
        """
        self._counter(to_counter)
        if to_counter == desk.counter:
            raise QueueError(
                QueueErrorKind.INVALID,
                f"the visit is already at counter {to_counter}",
                "choose another counter",
            )
        now = self.now_ms()
        with self._write() as conn:
            visit, stop = self._held(conn, desk, staff, visit_id)
            if stop.state is StopState.SERVING:
                self._update_stop(conn, visit, stop, state=StopState.DONE.value, done_at=now)
            else:
                self._update_stop(conn, visit, stop, state=StopState.SKIPPED.value)
            self._set_desk_visit(conn, desk, None, now)
            seq = self._insert_after(conn, visit, stop.seq, to_counter)
            conn.execute(
                update(queue_stop)
                .where((queue_stop.c.visit_id == visit.id) & (queue_stop.c.seq == seq))
                .values(
                    state=StopState.WAITING.value,
                    entered_at=self._back_of_line(conn, visit.branch, visit.day, to_counter, now),
                    joined_at=now,
                )
            )
            self._touch(conn, visit, now)
            self._log(conn, visit, EventKind.TRANSFERRED, now, staff, to_counter, detail=desk.counter)
            return self._load(conn, visit.id)

    @retry_on_lock
    def add_counter(self, visit_id: int, counter: str, staff: Staff, *, next_up: bool = True) -> Visit:
        """Add a counter to an active visit's route: right after the current one, or (`next_up=False`) last.

        Raises:
            QueueError: UNKNOWN_COUNTER, OTHER_BRANCH, VISIT_ENDED, INVALID (already still to come).
        """
        self._counter(counter)
        now = self.now_ms()
        with self._write() as conn:
            visit = self._load(conn, visit_id, lock=True)
            self._check_branch(Desk(visit.branch, counter), staff)
            current = visit.current
            if visit.state is not VisitState.ACTIVE or current is None:
                raise ended_error(visit)
            if counter in {
                s.counter for s in visit.stops if s.state.value in (StopState.PENDING.value, *ACTIVE_STOPS)
            }:
                raise QueueError(
                    QueueErrorKind.INVALID, f"counter {counter} is already on {visit.number}'s route"
                )
            after = current.seq if next_up else max(s.seq for s in visit.stops)
            self._insert_after(conn, visit, after, counter)
            self._touch(conn, visit, now)
            self._log(conn, visit, EventKind.COUNTER_ADDED, now, staff, counter)
            return self._load(conn, visit.id)

    @retry_on_lock
    def cancel(self, visit_id: int, staff: Staff, *, reason: str = "") -> Visit:
        """Withdraw an active visit (the resident left); a counter holding it is freed.

        Raises:
            QueueError: OTHER_BRANCH, VISIT_ENDED.
        """
        now = self.now_ms()
        with self._write() as conn:
            peek = self._load(conn, visit_id)
            if staff.branch != peek.branch:
                raise QueueError(QueueErrorKind.OTHER_BRANCH, f"{peek.number} belongs to {peek.branch}")
            held = peek.current
            if held is not None and held.state is not StopState.WAITING:  # lock its desk first (lock order)
                desk_key = (queue_desk.c.branch == peek.branch) & (queue_desk.c.counter == held.counter)
                conn.execute(select(queue_desk.c.visit_id).where(desk_key).with_for_update()).first()
            visit = self._load(conn, visit_id, lock=True)
            current = visit.current
            if visit.state is not VisitState.ACTIVE or current is None:
                raise ended_error(visit)
            if current.state is not StopState.WAITING:
                desk_key = (queue_desk.c.branch == visit.branch) & (queue_desk.c.counter == current.counter)
                conn.execute(
                    update(queue_desk)
                    .where(desk_key & (queue_desk.c.visit_id == visit.id))
                    .values(visit_id=None, changed_at=now)
                )
            self._end(conn, visit, VisitState.CANCELLED, now)
            self._log(conn, visit, EventKind.CANCELLED, now, staff, current.counter, detail=reason[:200])
            return self._load(conn, visit.id)
