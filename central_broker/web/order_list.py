"""The orders list: a state filter and a search (order code or payment reference), done by the database,
kept in the page's URL (`/orders?status=waiting&q=P2604&page=2`) and paginated, newest first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi.exceptions import HTTPException
from starlette.datastructures import QueryParams

from central_broker.orders.store import MAX_SEARCH
from central_broker.web.context import WebContext
from central_broker.web.i18n import gettext_ as _
from madoguchi.contracts.orders import OrderStatus

__all__ = ["PAGE_SIZE", "OrderFilter", "list_values"]

_logger = logging.getLogger(__name__)

PAGE_SIZE = 100  # orders per page (the list showed the newest 100 before it had pages)
_MAX_PAGE = 10_000


@dataclass(frozen=True)
class OrderFilter:
    """What the list shows: one state or all, a search text, and which page (from 1)."""

    status: OrderStatus | None = None
    search: str = ""
    page: int = 1

    @classmethod
    def from_query(cls, params: QueryParams) -> OrderFilter:
        """The filter of a request's query string.

        Raises:
            HTTPException: 400 for a state that does not exist.
        """
        raw = params.get("status", "").strip()
        try:
            status = OrderStatus(raw) if raw else None
        except ValueError:
            raise HTTPException(400, _("There is no order state %(status)r.", status=raw[:32])) from None
        try:
            page = min(_MAX_PAGE, max(1, int(params.get("page", "1"))))
        except ValueError:
            page = 1
        return cls(status, params.get("q", "").strip()[:MAX_SEARCH], page)

    def query(self, page: int | None = None) -> str:
        """The query string of this filter (on `page`), without the empty parts."""
        values: dict[str, str | int] = {}
        if self.status is not None:
            values["status"] = self.status.value
        if self.search:
            values["q"] = self.search
        if (page or self.page) > 1:
            values["page"] = page or self.page
        return urlencode(values)

    @property
    def active(self) -> bool:
        """Whether the list is narrowed by a state or a search."""
        return self.status is not None or bool(self.search)


def list_values(ctx: WebContext, params: QueryParams) -> dict[str, Any]:
    """Template values of the orders list for a request's query string."""
    chosen = OrderFilter.from_query(params)
    found = ctx.orders.orders(
        chosen.status, PAGE_SIZE + 1, search=chosen.search, offset=(chosen.page - 1) * PAGE_SIZE
    )
    return {
        "orders": found[:PAGE_SIZE],
        "filter": chosen,
        "statuses": list(OrderStatus),
        "newer": chosen.query(chosen.page - 1) if chosen.page > 1 else None,
        "older": chosen.query(chosen.page + 1) if len(found) > PAGE_SIZE else None,
    }
