"""Offline tickets: each kiosk's reserved number block, and merging what it issued while cut off.

A kiosk asks once (`offline_block`) for its block at its branch and keeps it: block `b` gives
numbers `b × 1000 + 1 … b × 1000 + 999` for every prefix, every day (`A-1001`, `A-1002` …), so
they never meet central numbers (capped below 1000) nor another kiosk's. While the central cannot
be reached the kiosk numbers from its block, journals each ticket and prints it marked offline;
when the link returns it submits them (`merge_offline`). The centre inserts them in issue-time
order: a ticket joins its first counter's line at its issue time (clamped to now), so it waits
ahead of residents who came later. A number already merged is reported as a duplicate and
changes nothing (resubmission is harmless). Tickets of a past business day are kept, cancelled.
Rejected tickets are kept for the branch's counter staff (`refused.RefusedTickets`).
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError

from central_broker.queue.days import (
    OFFLINE_BLOCK_SIZE,
    block_of,
    business_day,
    day_end_ms,
    offline_range,
    parse_number,
)
from central_broker.queue.models import (
    EventKind,
    QueueError,
    QueueErrorKind,
    StopState,
    TicketSource,
    VisitState,
)
from central_broker.queue.refused import RefusedTickets
from central_broker.queue.retry import retry_on_lock
from central_broker.queue.schema import queue_offline_block, queue_stop, queue_visit
from madoguchi.contracts.catalog_base import CatalogLookupError

__all__ = ["MergeOutcome", "OfflineBlock", "OfflineMerge", "OfflineTicket", "TicketMerge"]

_logger = logging.getLogger(__name__)

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
MAX_BLOCKS = 99


@dataclass(frozen=True)
class OfflineBlock:
    """A kiosk's reserved numbers at its branch (the same for every prefix and day)."""

    branch: str
    device_id: str
    block: int

    @property
    def numbers(self) -> range:
        """The `n` it issues offline."""
        return offline_range(self.block)


@dataclass(frozen=True)
class OfflineTicket:
    """A ticket a kiosk issued offline, as it journaled it.

    Args:
        number: `A-1001`; the prefix must be the category's, `n` in the kiosk's block.
        category: the category id chosen at the kiosk.
        issued_at: the kiosk's epoch ms when it printed the ticket.
        token_hash: SHA-256 hex of the status token printed in its QR (the kiosk made it), if any.
        then: further counters chosen at the kiosk.
    """

    number: str
    category: str
    issued_at: int
    token_hash: str | None = None
    then: tuple[str, ...] = ()


class MergeOutcome(enum.StrEnum):
    """What the centre did with one offline ticket."""

    MERGED = "merged"  # now waiting in its counter's line
    DUPLICATE = "duplicate"  # merged by an earlier submission; nothing changed
    EXPIRED = "expired"  # issued on a past business day: recorded, cancelled
    REJECTED = "rejected"  # not this kiosk's number, unknown category, …: the kiosk keeps it for staff


@dataclass(frozen=True)
class TicketMerge:
    """The outcome for one submitted ticket."""

    number: str
    outcome: MergeOutcome
    visit_id: int | None
    reason: str = ""


class OfflineMerge(RefusedTickets):
    """Block assignment and the merge of offline tickets."""

    @retry_on_lock
    def offline_block(self, branch: str, device_id: str) -> OfflineBlock:
        """The kiosk's block at `branch`, assigned on first request (lowest free block ≥ 1) and kept.

        Raises:
            QueueError: INVALID when every block of the branch is taken.
        """
        key = (queue_offline_block.c.branch == branch) & (queue_offline_block.c.device_id == device_id)
        now = self.now_ms()
        with self._write() as conn:
            found = conn.execute(select(queue_offline_block.c.block).where(key)).scalar()
            if found is not None:
                return OfflineBlock(branch, device_id, int(found))
            used = set(
                conn.execute(
                    select(queue_offline_block.c.block).where(queue_offline_block.c.branch == branch)
                ).scalars()
            )
            free = next((b for b in range(1, MAX_BLOCKS + 1) if b not in used), None)
            if free is None:
                raise QueueError(
                    QueueErrorKind.INVALID,
                    f"all {MAX_BLOCKS} offline blocks of {branch} are taken",
                    "release the blocks of retired kiosks",
                )
            conn.execute(
                insert(queue_offline_block).values(
                    branch=branch, device_id=device_id, block=free, assigned_at=now
                )
            )
        _logger.info("queue %s: kiosk %s issues offline from block %d", branch, device_id, free)
        return OfflineBlock(branch, device_id, free)

    def _check_ticket(
        self, block: int, ticket: OfflineTicket
    ) -> tuple[str, int, list[tuple[str, str]]] | str:
        parsed = parse_number(ticket.number)
        if parsed is None:
            return f"{ticket.number!r} is not a visit number"
        prefix, n = parsed
        if block_of(n) != block:
            return (
                f"{ticket.number} is outside this kiosk's block {block} ({block * OFFLINE_BLOCK_SIZE + 1}…)"
            )
        try:
            category = self.catalog.queue_category(ticket.category)
            route = [category.counter, *(c for c in ticket.then if c != category.counter)]
            counters = [(c, self.catalog.counter(c).department) for c in route]
        except CatalogLookupError as exc:
            return str(exc)
        if category.prefix != prefix:
            return f"{ticket.number} does not carry category {category.id}'s prefix {category.prefix}"
        return prefix, n, counters

    def _refused(
        self, conn: Connection, branch: str, device_id: str, ticket: OfflineTicket, reason: str, now: int
    ) -> None:
        self._record_refused(
            conn,
            branch=branch,
            device_id=device_id,
            number=ticket.number,
            category=ticket.category,
            issued_at=ticket.issued_at,
            reason=reason,
            now=now,
        )

    @retry_on_lock
    def merge_offline(
        self,
        branch: str,
        device_id: str,
        tickets: Sequence[OfflineTicket],
        *,
        record: Callable[[Connection, list[TicketMerge]], None] | None = None,
    ) -> list[TicketMerge]:
        """Merge a kiosk's offline tickets in issue-time order; idempotent (see the module docstring).

        `record` is called with the outcomes inside the merge's transaction (the RPC layer keeps its answer).

        Returns:
            One `TicketMerge` per submitted ticket, in issue-time order.

        Raises:
            QueueError: NOT_FOUND when the kiosk has no block at `branch`.
        """
        key = (queue_offline_block.c.branch == branch) & (queue_offline_block.c.device_id == device_id)
        with self.engine.connect() as conn:
            block = conn.execute(select(queue_offline_block.c.block).where(key)).scalar()
        if block is None:
            raise QueueError(
                QueueErrorKind.NOT_FOUND,
                f"kiosk {device_id} has no offline block at {branch}",
                "the kiosk asks for its block while online",
            )
        now = self.now_ms()
        today = self.today(now)
        results: list[TicketMerge] = []
        with self._write() as conn:
            for ticket in sorted(tickets, key=lambda t: (t.issued_at, t.number)):
                checked = self._check_ticket(int(block), ticket)
                if isinstance(checked, str):
                    results.append(TicketMerge(ticket.number, MergeOutcome.REJECTED, None, checked))
                    self._refused(conn, branch, device_id, ticket, checked, now)
                    _logger.warning(
                        "queue %s: offline ticket %s of %s rejected: %s",
                        branch,
                        ticket.number,
                        device_id,
                        checked,
                    )
                    continue
                prefix, n, route = checked
                entered = min(ticket.issued_at, now)  # a kiosk clock ahead of ours cannot jump the line
                day = business_day(entered, self.config.opening_time)
                same = (
                    (queue_visit.c.branch == branch)
                    & (queue_visit.c.day == day)
                    & (queue_visit.c.prefix == prefix)
                    & (queue_visit.c.n == n)
                )
                existing = conn.execute(select(queue_visit.c.id, queue_visit.c.device_id).where(same)).first()
                if existing is not None:
                    if existing.device_id == device_id:
                        results.append(TicketMerge(ticket.number, MergeOutcome.DUPLICATE, existing.id))
                    else:
                        results.append(
                            TicketMerge(ticket.number, MergeOutcome.REJECTED, None, "number taken")
                        )
                        self._refused(conn, branch, device_id, ticket, "number taken", now)
                    continue
                expired = day != today
                token = (
                    ticket.token_hash if ticket.token_hash and _SHA256_HEX.match(ticket.token_hash) else None
                )
                if (
                    token is not None
                    and conn.execute(select(func.count()).where(queue_visit.c.token_hash == token)).scalar()
                ):
                    token = None  # a reused token hash would reveal another visit
                try:
                    with conn.begin_nested():
                        visit_id = conn.execute(
                            insert(queue_visit)
                            .values(
                                branch=branch,
                                day=day,
                                prefix=prefix,
                                n=n,
                                number=f"{prefix}-{n}",
                                category=ticket.category,
                                state=(VisitState.CANCELLED if expired else VisitState.ACTIVE).value,
                                source=TicketSource.OFFLINE.value,
                                device_id=device_id,
                                issued_at=ticket.issued_at,
                                ended_at=now if expired else None,
                                token_hash=token,
                                token_expires=day_end_ms(day) if token else None,
                                changed_at=now,
                            )
                            .returning(queue_visit.c.id)
                        ).scalar_one()
                except IntegrityError:  # the same submission is being merged by another worker
                    results.append(TicketMerge(ticket.number, MergeOutcome.DUPLICATE, None))
                    continue
                self._insert_stops(conn, visit_id, branch, day, route, entered, entered)
                kind = EventKind.EXPIRED if expired else EventKind.MERGED
                self._journal(
                    conn,
                    branch=branch,
                    day=day,
                    at=now,
                    kind=kind,
                    actor=device_id,
                    visit_id=visit_id,
                    number=f"{prefix}-{n}",
                    counter=route[0][0],
                    detail=f"issued_at={ticket.issued_at}",
                )
                if expired:
                    conn.execute(
                        queue_stop.update()
                        .where(queue_stop.c.visit_id == visit_id)
                        .values(state=StopState.SKIPPED.value)
                    )
                outcome = MergeOutcome.EXPIRED if expired else MergeOutcome.MERGED
                results.append(TicketMerge(ticket.number, outcome, visit_id))
            if record is not None:
                record(conn, results)
        merged = sum(1 for r in results if r.outcome is MergeOutcome.MERGED)
        _logger.info(
            "queue %s: %d of %d offline tickets of %s merged", branch, merged, len(results), device_id
        )
        return results
