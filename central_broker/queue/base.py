"""Shared plumbing of the queue service: write transactions, the journal, loading visits, tokens."""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, insert, select

from central_broker.queue.days import business_day, parse_number
from central_broker.queue.models import (
    EventKind,
    QueueConfig,
    QueueError,
    QueueErrorKind,
    Stop,
    StopState,
    TicketSource,
    Visit,
    VisitState,
)
from central_broker.queue.retry import LockRetry
from central_broker.queue.schema import metadata, queue_event, queue_stop, queue_visit
from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.catalog_base import CatalogLookupError
from madoguchi.contracts.catalog_guide import Counter

__all__ = ["QueueBase", "hash_token", "new_token"]

_logger = logging.getLogger(__name__)

TOKEN_BYTES = 24  # 192 bits


def new_token() -> str:
    """A fresh status-page token (URL-safe, 192 random bits)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """What the centre stores of a token (SHA-256, hex)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def visit_of(row: Row[Any], stops: Sequence[Row[Any]]) -> Visit:
    """A `Visit` from its `queue_visit` row and its `queue_stop` rows (any order; sorted by `seq`)."""
    return Visit(
        id=row.id,
        branch=row.branch,
        day=row.day,
        number=row.number,
        prefix=row.prefix,
        n=row.n,
        category=row.category,
        state=VisitState(row.state),
        source=TicketSource(row.source),
        device_id=row.device_id,
        issued_at=row.issued_at,
        ended_at=row.ended_at,
        stops=tuple(_stop(s) for s in sorted(stops, key=lambda s: s.seq)),
    )


def _stop(r: Row[Any]) -> Stop:
    return Stop(
        seq=r.seq,
        counter=r.counter,
        department=r.department,
        state=StopState(r.state),
        entered_at=r.entered_at,
        first_called_at=r.first_called_at,
        called_at=r.called_at,
        recalls=r.recalls,
        started_at=r.started_at,
        done_at=r.done_at,
    )


class QueueBase:
    """Engine, catalog, config and clock; transactions and journal shared by the mixins.

    Args:
        engine: the central store's engine (SQLite or PostgreSQL).
        catalog: the catalog in force (categories, counters, departments, thresholds).
        config: operating settings (opening time, caps, no-show rule, default service time).
        clock: seconds since the Unix epoch (tests pass a `SteppableClock`).
    """

    def __init__(
        self,
        engine: Engine,
        catalog: Catalog,
        config: QueueConfig | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.catalog = catalog
        self.config = config or QueueConfig()
        self._clock = clock
        # How staff actions retry a write that met a locked database (`retry.retry_on_lock`).
        self.lock_retry = LockRetry()
        # Called with (connection, visit id) inside the transaction that ends a visit (finished or cancelled),
        # e.g. to delete data kept only while the visit lasts (書かない窓口 prefill).
        self.visit_end_hooks: list[Callable[[Connection, int], None]] = []

    def create_schema(self) -> None:
        """Create missing tables (idempotent)."""
        metadata.create_all(self.engine)

    def now_ms(self) -> int:
        """The service clock in epoch milliseconds."""
        return int(self._clock() * 1000)

    def today(self, now: int | None = None) -> str:
        """The current business day (YYYY-MM-DD)."""
        return business_day(self.now_ms() if now is None else now, self.config.opening_time)

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction; on SQLite it takes the write lock first, so reads inside it stay true."""
        with self.engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            yield conn

    def _counter(self, counter_id: str) -> Counter:
        try:
            return self.catalog.counter(counter_id)
        except CatalogLookupError as exc:
            raise QueueError(
                QueueErrorKind.UNKNOWN_COUNTER,
                f"there is no counter {counter_id!r}",
                "pick a counter of the catalog",
            ) from exc

    @staticmethod
    def _back_of_line(conn: Connection, branch: str, day: str, counter: str, now: int) -> int:
        """The FIFO key that puts a visit last in a counter's line: now, or just after the last one."""
        last = conn.execute(
            select(func.max(queue_stop.c.entered_at)).where(
                (queue_stop.c.branch == branch)
                & (queue_stop.c.day == day)
                & (queue_stop.c.counter == counter)
                & (queue_stop.c.state == StopState.WAITING.value)
            )
        ).scalar()
        return now if last is None or last < now else int(last) + 1

    @staticmethod
    def _journal(
        conn: Connection,
        *,
        branch: str,
        day: str,
        at: int,
        kind: EventKind,
        actor: str,
        visit_id: int | None = None,
        number: str | None = None,
        counter: str | None = None,
        detail: str = "",
    ) -> None:
        conn.execute(
            insert(queue_event).values(
                branch=branch,
                day=day,
                at=at,
                kind=kind.value,
                visit_id=visit_id,
                number=number,
                counter=counter,
                actor=actor[:64],
                detail=detail,
            )
        )
        _logger.debug("queue %s %s %s %s by %s", branch, kind.value, number, counter or "", actor)

    @staticmethod
    def _load(conn: Connection, visit_id: int, *, lock: bool = False) -> Visit:
        query = select(queue_visit).where(queue_visit.c.id == visit_id)
        if lock:
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            raise QueueError(QueueErrorKind.NOT_FOUND, f"there is no visit {visit_id}", "reload the page")
        stops = conn.execute(select(queue_stop).where(queue_stop.c.visit_id == visit_id)).all()
        return visit_of(row, stops)

    def visit(self, visit_id: int) -> Visit:
        """One visit with its route.

        Raises:
            QueueError: NOT_FOUND.
        """
        with self.engine.connect() as conn:
            return self._load(conn, visit_id)

    def visit_by_number(self, branch: str, number: str, day: str | None = None) -> Visit:
        """The visit holding `number` (e.g. `A-12`) at `branch` on `day` (default today).

        Raises:
            QueueError: NOT_FOUND.
        """
        parsed = parse_number(number)
        if parsed is None:
            raise QueueError(QueueErrorKind.NOT_FOUND, f"{number!r} is not a visit number", "type it as A-12")
        prefix, n = parsed
        with self.engine.connect() as conn:
            found = conn.execute(
                select(queue_visit.c.id).where(
                    (queue_visit.c.branch == branch)
                    & (queue_visit.c.day == (day or self.today()))
                    & (queue_visit.c.prefix == prefix)
                    & (queue_visit.c.n == n)
                )
            ).scalar()
            if found is None:
                raise QueueError(
                    QueueErrorKind.NOT_FOUND, f"no visit {number} today at {branch}", "check the number"
                )
            return self._load(conn, found)
