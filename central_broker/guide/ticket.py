"""The ticket a guide result asks for: the category of the first counter and the counters after it.

Counters of the procedures `ProcedureGuide.results` lists (routes ①–④; ⑤ never), in visit order, once each.
Route ④ ("consult if you wish") is left out unless the resident kept it (`keep`). The category is the
ticket category of the first counter that has one (a counter without its own category cannot issue a
number); the others follow in `then`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.catalog_guide import GuideItem, GuideStatus

__all__ = ["TicketPlan", "ticket_plan"]


@dataclass(frozen=True)
class TicketPlan:
    """`queue.take` parameters of a guide result."""

    category: str
    then: tuple[str, ...]


def ticket_plan(
    catalog: Catalog, items: Sequence[GuideItem], keep: Collection[str] = ()
) -> TicketPlan | None:
    """The take of a guide result, or None when no listed counter issues numbers."""
    counters = list(
        dict.fromkeys(
            item.counter.id
            for item in items
            if item.status is not GuideStatus.OPTIONAL or item.procedure.id in keep
        )
    )
    category_of = {category.counter: category.id for category in catalog.queue.categories}
    for index, counter in enumerate(counters):
        if counter in category_of:
            return TicketPlan(category_of[counter], tuple(counters[:index] + counters[index + 1 :]))
    return None
