"""Offline tickets the centre refused at merge, kept for the branch's counter staff.

A refused offline ticket is a resident holding a printed number nobody will call (number outside the kiosk's
block, taken by another kiosk, unknown category …). The merge records it once per (kiosk, number, issue time)
with its reason and journals `offline_refused` for the branch, so the live counter pages list it and staff
can serve that resident by hand. `offline_refused(branch)` reads the ones refused on a business day.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from central_broker.queue.models import EventKind
from central_broker.queue.routing import Routing
from central_broker.queue.schema import queue_offline_refused

__all__ = ["RefusedTicket", "RefusedTickets"]

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefusedTicket:
    """An offline ticket the centre could not merge (no personal data: a number, a kiosk, times)."""

    id: int
    branch: str
    device_id: str
    number: str
    category: str
    issued_at: int  # the kiosk's clock
    reason: str
    refused_at: int


class RefusedTickets(Routing):
    """Recording and listing refused offline tickets."""

    def _record_refused(
        self,
        conn: Connection,
        *,
        branch: str,
        device_id: str,
        number: str,
        category: str,
        issued_at: int,
        reason: str,
        now: int,
    ) -> None:
        """Keep one refused ticket (inside the merge's transaction); a resubmission adds nothing."""
        same = (
            (queue_offline_refused.c.branch == branch)
            & (queue_offline_refused.c.device_id == device_id)
            & (queue_offline_refused.c.number == number[:16])
            & (queue_offline_refused.c.issued_at == issued_at)
        )
        if conn.execute(select(queue_offline_refused.c.id).where(same)).first() is not None:
            return
        day = self.today(now)
        conn.execute(
            insert(queue_offline_refused).values(
                branch=branch,
                day=day,
                device_id=device_id,
                number=number[:16],
                category=category[:64],
                issued_at=issued_at,
                reason=reason[:300],
                refused_at=now,
            )
        )
        self._journal(
            conn,
            branch=branch,
            day=day,
            at=now,
            kind=EventKind.OFFLINE_REFUSED,
            actor=device_id,
            number=number[:16],
            detail=reason[:300],
        )

    def offline_refused(self, branch: str, day: str | None = None) -> list[RefusedTicket]:
        """Offline tickets of `branch` refused on business day `day` (default today), oldest issue first."""
        query = (
            select(queue_offline_refused)
            .where(
                (queue_offline_refused.c.branch == branch)
                & (queue_offline_refused.c.day == (day or self.today()))
            )
            .order_by(queue_offline_refused.c.issued_at, queue_offline_refused.c.id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            RefusedTicket(
                r.id, r.branch, r.device_id, r.number, r.category, r.issued_at, r.reason, r.refused_at
            )
            for r in rows
        ]
