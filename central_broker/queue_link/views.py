"""From the queue core's values to the kiosk contract (`madoguchi.contracts.queue`): tickets, lamps, merges."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time

from central_broker.queue import CategoryCongestion, OfflineTicket, TakenTicket, TicketMerge
from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.catalog_base import CatalogLookupError
from madoguchi.contracts.queue import (
    CategoryLamp,
    Congestion,
    CongestionView,
    CounterStop,
    MergeItem,
    MergeResult,
    MergeView,
    OfflineTicketIn,
    TicketView,
)

__all__ = ["congestion_view", "merge_view", "offline_tickets", "status_url", "ticket_view"]


def status_url(public_base: str, token: str) -> str:
    """The resident status page of a ticket: `<public_base>/q/<token>`."""
    return f"{public_base.rstrip('/')}/q/{token}"


def _stop(catalog: Catalog, counter_id: str, department: str) -> CounterStop:
    try:
        counter = catalog.counter(counter_id)
    except CatalogLookupError:
        return CounterStop(counter=counter_id, department=department)
    return CounterStop(
        counter=counter.id, department=counter.department, floor=counter.floor, number=counter.number
    )


def ticket_view(ticket: TakenTicket, catalog: Catalog, public_base: str) -> TicketView:
    """What the kiosk prints for a ticket just taken."""
    visit, estimate = ticket.visit, ticket.estimate
    return TicketView(
        number=visit.number,
        category=visit.category,
        counters=[_stop(catalog, s.counter, s.department) for s in visit.stops],
        people_ahead=estimate.people_ahead,
        wait_min_minutes=estimate.lower_minutes,
        wait_max_minutes=estimate.upper_minutes,
        issued_at=visit.issued_at,
        status_token=ticket.token,
        status_url=status_url(public_base, ticket.token),
        expires_at=ticket.token_expires,
    )


def congestion_view(
    branch: str,
    at: int,
    lamps: Sequence[CategoryCongestion],
    closed: set[str],
    *,
    issuing: bool,
    opening_time: time | None = None,
) -> CongestionView:
    """The retained `down/queue` document of a branch (`opening_time`: where its business day starts)."""
    return CongestionView(
        branch=branch,
        at=at,
        issuing=issuing,
        opening_time=None if opening_time is None else f"{opening_time:%H:%M}",
        categories=[
            CategoryLamp(
                category=lamp.category,
                level=Congestion(lamp.level.value),
                waiting=lamp.waiting,
                wait_min_minutes=lamp.estimate.lower_minutes,
                wait_max_minutes=lamp.estimate.upper_minutes,
                closed=lamp.category in closed,
            )
            for lamp in lamps
        ],
    )


def offline_tickets(items: Sequence[OfflineTicketIn]) -> list[OfflineTicket]:
    """The kiosk's journaled offline tickets as the core takes them."""
    return [
        OfflineTicket(
            number=item.number,
            category=item.category,
            issued_at=item.issued_at,
            token_hash=item.token_hash,
            then=tuple(item.then),
        )
        for item in items
    ]


def merge_view(submitted: Sequence[OfflineTicketIn], merged: Sequence[TicketMerge]) -> MergeView:
    """Outcomes in the order the kiosk submitted them (the core answers in issue-time order)."""
    by_number: dict[str, list[TicketMerge]] = {}
    for m in merged:
        by_number.setdefault(m.number, []).append(m)
    results = []
    for item in submitted:
        answers = by_number.get(item.number)
        outcome = answers.pop(0) if answers else None
        if outcome is None:  # pragma: no cover - the core answers every ticket
            results.append(
                MergeItem(number=item.number, outcome=MergeResult.REJECTED, reason="not processed")
            )
            continue
        results.append(
            MergeItem(
                number=item.number, outcome=MergeResult(outcome.outcome.value), reason=outcome.reason[:300]
            )
        )
    return MergeView(results=results)
