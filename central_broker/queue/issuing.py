"""Taking a ticket (central numbering), closing categories, and the resident status lookup by token."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from central_broker.queue.base import hash_token, new_token
from central_broker.queue.days import day_end_ms, format_number, is_within_hours
from central_broker.queue.estimates import EstimateQueries
from central_broker.queue.models import (
    Estimate,
    EventKind,
    QueueError,
    QueueErrorKind,
    StopState,
    TakenTicket,
    TicketSource,
    Visit,
    VisitState,
)
from central_broker.queue.retry import retry_on_lock
from central_broker.queue.schema import queue_category_state, queue_number, queue_stop, queue_visit
from madoguchi.contracts.catalog_base import CatalogLookupError
from madoguchi.contracts.catalog_rules import QueueCategory

__all__ = ["Issuing", "VisitStatus"]

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VisitStatus:
    """What the resident status page shows: the visit and, while it waits, its estimate."""

    visit: Visit
    estimate: Estimate | None


class Issuing(EstimateQueries):
    """`take` for kiosks and reception; category closing; status by token."""

    def _category(self, branch: str, category_id: str, source: TicketSource) -> QueueCategory:
        try:
            category = self.catalog.queue_category(category_id)
        except CatalogLookupError as exc:
            known = ", ".join(c.id for c in self.catalog.queue.categories)
            raise QueueError(
                QueueErrorKind.UNKNOWN_CATEGORY,
                f"there is no ticket category {category_id!r}",
                f"use one of {known}",
            ) from exc
        if category.id in self.config.closed_categories or self.category_closed(branch, category.id):
            raise QueueError(
                QueueErrorKind.CATEGORY_CLOSED,
                f"tickets for {category.id!r} are not issued now at {branch}",
                "ask at the reception desk",
            )
        if category.concierge_only and source is TicketSource.KIOSK:
            raise QueueError(
                QueueErrorKind.CONCIERGE_ONLY,
                f"tickets for {category.id!r} are issued at the reception desk only",
                "ask at the reception desk",
            )
        return category

    def _next_n(self, conn: Connection, branch: str, day: str, prefix: str) -> int:
        key = (
            (queue_number.c.branch == branch)
            & (queue_number.c.day == day)
            & (queue_number.c.prefix == prefix)
        )
        for _attempt in range(5):
            bumped = conn.execute(update(queue_number).where(key).values(last_n=queue_number.c.last_n + 1))
            if bumped.rowcount:
                return int(conn.execute(select(queue_number.c.last_n).where(key)).scalar_one())
            try:
                with conn.begin_nested():
                    conn.execute(insert(queue_number).values(branch=branch, day=day, prefix=prefix, last_n=1))
                return 1
            except IntegrityError:  # another process started the day's sequence a moment ago
                continue
        raise RuntimeError(f"could not number a visit at {branch} {day} {prefix}")  # pragma: no cover

    @retry_on_lock
    def take(
        self,
        branch: str,
        category_id: str,
        *,
        source: TicketSource = TicketSource.KIOSK,
        device_id: str | None = None,
        then: Sequence[str] = (),
        record: Callable[[Connection, TakenTicket], None] | None = None,
    ) -> TakenTicket:
        """Issue the next number of a category: the visit waits at the category's counter first.

        Args:
            branch: the branch office.
            category_id: a `queue.categories` id of the catalog.
            source: KIOSK or CONCIERGE (OFFLINE tickets arrive through `merge_offline`).
            device_id: the kiosk asking (journaled).
            then: further counter ids to visit afterwards (e.g. from the procedure guide).
            record: called with the ticket inside the issuing transaction (the RPC layer keeps its answer
                there, so the number and the answer are committed together or not at all).

        Raises:
            QueueError: OUTSIDE_HOURS, UNKNOWN_CATEGORY, CATEGORY_CLOSED, CONCIERGE_ONLY, DAILY_CAP,
                UNKNOWN_COUNTER, INVALID.
        """
        if source is TicketSource.OFFLINE:
            raise QueueError(
                QueueErrorKind.INVALID, "offline tickets are merged, not taken", "use merge_offline"
            )
        now = self.now_ms()
        if not is_within_hours(now, self.config.opening_time, self.config.closing_time):
            opening, closing = self.config.opening_time, self.config.closing_time
            raise QueueError(
                QueueErrorKind.OUTSIDE_HOURS,
                f"tickets are issued from {opening:%H:%M} to {closing:%H:%M}",
                "come back during opening hours",
            )
        category = self._category(branch, category_id, source)
        route = [category.counter, *(c for c in then if c != category.counter)]
        counters = [self._counter(c) for c in route]
        day = self.today(now)
        token = new_token()
        expires = day_end_ms(day)
        with self._write() as conn:
            n = self._next_n(conn, branch, day, category.prefix)
            cap = self.config.cap_for(category.id)
            if n > cap:
                raise QueueError(
                    QueueErrorKind.DAILY_CAP,
                    f"all {cap} tickets for {category.id!r} have been issued today",
                    "ask at the reception desk",
                )
            number = format_number(category.prefix, n)
            ahead = self._waiting(conn, branch, day, category.counter)  # a new ticket joins at the back
            visit_id = conn.execute(
                insert(queue_visit)
                .values(
                    branch=branch,
                    day=day,
                    prefix=category.prefix,
                    n=n,
                    number=number,
                    category=category.id,
                    state=VisitState.ACTIVE.value,
                    source=source.value,
                    device_id=device_id,
                    issued_at=now,
                    token_hash=hash_token(token),
                    token_expires=expires,
                    changed_at=now,
                )
                .returning(queue_visit.c.id)
            ).scalar_one()
            entered = self._back_of_line(conn, branch, day, category.counter, now)
            self._insert_stops(
                conn, visit_id, branch, day, [(c.id, c.department) for c in counters], entered, now
            )
            self._journal(
                conn,
                branch=branch,
                day=day,
                at=now,
                kind=EventKind.ISSUED,
                actor=device_id or source.value,
                visit_id=visit_id,
                number=number,
                counter=category.counter,
                detail=source.value,
            )
            estimate = self._estimate(conn, branch, day, category.counter, ahead)
            visit = self._load(conn, visit_id)
            ticket = TakenTicket(visit, estimate, token, expires)
            if record is not None:
                record(conn, ticket)
        _logger.info(
            "queue %s: issued %s (%s) from %s", branch, number, category.id, device_id or source.value
        )
        return ticket

    @staticmethod
    def _insert_stops(
        conn: Connection,
        visit_id: int,
        branch: str,
        day: str,
        route: Sequence[tuple[str, str]],
        entered_at: int,
        joined_at: int,
    ) -> None:
        for seq, (counter, department) in enumerate(route):
            first = seq == 0
            conn.execute(
                insert(queue_stop).values(
                    visit_id=visit_id,
                    seq=seq,
                    branch=branch,
                    day=day,
                    counter=counter,
                    department=department,
                    state=(StopState.WAITING if first else StopState.PENDING).value,
                    entered_at=entered_at if first else None,
                    joined_at=joined_at if first else None,
                    recalls=0,
                )
            )

    # --- categories --------------------------------------------------------------------------------

    def category_closed(self, branch: str, category_id: str) -> bool:
        """True when staff closed the category at `branch` (or the config closes it everywhere)."""
        if category_id in self.config.closed_categories:
            return True
        key = (queue_category_state.c.branch == branch) & (queue_category_state.c.category == category_id)
        with self.engine.connect() as conn:
            return bool(conn.execute(select(queue_category_state.c.closed).where(key)).scalar())

    @retry_on_lock
    def set_category_closed(self, branch: str, category_id: str, closed: bool, *, actor: str) -> None:
        """Stop (or resume) issuing a category at a branch; tickets already issued stay valid.

        Raises:
            QueueError: UNKNOWN_CATEGORY.
        """
        try:
            self.catalog.queue_category(category_id)
        except CatalogLookupError as exc:
            raise QueueError(
                QueueErrorKind.UNKNOWN_CATEGORY, f"there is no ticket category {category_id!r}"
            ) from exc
        now = self.now_ms()
        key = (queue_category_state.c.branch == branch) & (queue_category_state.c.category == category_id)
        with self._write() as conn:
            changed = conn.execute(
                update(queue_category_state).where(key).values(closed=int(closed), changed_at=now)
            )
            if not changed.rowcount:
                conn.execute(
                    insert(queue_category_state).values(
                        branch=branch, category=category_id, closed=int(closed), changed_at=now
                    )
                )
            kind = EventKind.CATEGORY_CLOSED if closed else EventKind.CATEGORY_OPENED
            self._journal(
                conn, branch=branch, day=self.today(now), at=now, kind=kind, actor=actor, detail=category_id
            )

    # --- resident status page ----------------------------------------------------------------------

    def status_by_token(self, token: str) -> VisitStatus | None:
        """The visit behind a status-page token; None alike for unknown, forged and expired tokens."""
        if not token or len(token) > 128:
            return None
        now = self.now_ms()
        with self.engine.connect() as conn:
            found = conn.execute(
                select(queue_visit.c.id).where(
                    (queue_visit.c.token_hash == hash_token(token)) & (queue_visit.c.token_expires > now)
                )
            ).scalar()
        if found is None:
            return None
        return VisitStatus(self.visit(found), self.estimate_for_visit(found))
