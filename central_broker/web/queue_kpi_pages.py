"""Visit-queue KPIs of one branch and business day (operators and auditors): `/queue/kpi` and `/queue/kpi.csv`.

From `QueueService.kpis(branch, day)`: wait (first call − joining the counter's line; for the first counter
that is call − issue) and stay (last done − issue) median and p90 per counter and hour, no-shows per
counter, tickets per category and hour, one-stop receptions (visits served at ≥ 2 departments, Isesaki
Out②). Charts are server-rendered SVG (`web/charts.py`); the CSV has one row per figure.
"""

from __future__ import annotations

import csv
import io
import logging
from collections import defaultdict
from datetime import date

from fastapi import APIRouter, Request
from fastapi.exceptions import HTTPException
from starlette.responses import Response

from central_broker.accounts import Role
from central_broker.queue import QueueKpis
from central_broker.web.charts import bar_chart, hbar_chart
from central_broker.web.context import WebContext, ctx_of, session_of
from central_broker.web.i18n import current_language
from central_broker.web.i18n import gettext_ as _
from central_broker.web.queue_common import branches_of, queue_of
from central_broker.web.security import require
from madoguchi.contracts.catalog_base import CatalogLookupError

__all__ = ["CSV_HEADER", "kpi_rows", "router"]

_logger = logging.getLogger(__name__)

_ROLES = (Role.OPERATOR, Role.AUDITOR)
CSV_HEADER = ("branch", "day", "metric", "counter", "category", "hour", "count", "median_s", "p90_s")


def kpi_rows(k: QueueKpis) -> list[tuple[object, ...]]:
    """The CSV rows of `k` (without the header)."""
    rows: list[tuple[object, ...]] = [
        (k.branch, k.day, metric, "", "", "", value, "", "")
        for metric, value in (
            ("visits", k.visits),
            ("finished", k.finished),
            ("cancelled", k.cancelled),
            ("one_stop", k.one_stop),
        )
    ]
    for metric, stats in (("wait", k.wait), ("stay", k.stay)):
        rows += [
            (k.branch, k.day, metric, s.counter, "", s.hour, s.count, f"{s.median_s:.0f}", f"{s.p90_s:.0f}")
            for s in stats
        ]
    rows += [(k.branch, k.day, "no_show", c, "", "", n, "", "") for c, n in sorted(k.no_shows.items())]
    rows += [(k.branch, k.day, "tickets", "", cat, h, n, "", "") for (cat, h), n in sorted(k.tickets.items())]
    return rows


def _choice(ctx: WebContext, branch: str, day: str) -> tuple[str, str]:
    queue = queue_of(ctx)
    if day:
        try:
            date.fromisoformat(day)
        except ValueError as exc:
            raise HTTPException(400, _("Dates are written YYYY-MM-DD.")) from exc
    if not branch:
        known = branches_of(ctx)
        branch = known[0] if known else ""
    return branch, day or queue.today()


def _category_name(ctx: WebContext, category: str) -> str:
    for c in ctx.catalog.queue.categories:
        if c.id == category:
            return c.names.text(current_language())
    return category


def _counter_name(ctx: WebContext, counter: str) -> str:
    try:
        return ctx.catalog.counter(counter).names.text(current_language())
    except CatalogLookupError:
        return counter


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f}"


def router() -> APIRouter:
    """Routes of this module."""
    api = APIRouter()

    @api.get("/queue/kpi")
    def kpi_page(request: Request, branch: str = "", day: str = "") -> Response:
        require(session_of(request), *_ROLES)
        ctx = ctx_of(request)
        branch, day = _choice(ctx, branch, day)
        k = queue_of(ctx).kpis(branch, day)
        per_hour: dict[int, int] = defaultdict(int)
        for (_cat, hour), n in k.tickets.items():
            per_hour[hour] += n
        hours = range(min(per_hour, default=8), max(per_hour, default=17) + 1)
        ticket_chart = bar_chart(
            [(f"{h:02d}:00", float(per_hour.get(h, 0))) for h in hours], _("Tickets per hour"), label_every=1
        )
        waits: dict[str, list[float]] = defaultdict(list)
        for s in k.wait:
            waits[s.counter] += [s.median_s] * s.count
        wait_chart = hbar_chart(
            [(_counter_name(ctx, c), sorted(v)[len(v) // 2] / 60) for c, v in sorted(waits.items())],
            _("Median wait per counter (min)"),
        )
        categories = sorted({cat for cat, _h in k.tickets})
        return ctx.render(
            request,
            "queue_kpi.html",
            branch=branch,
            day=day,
            branches=branches_of(ctx),
            k=k,
            ticket_chart=ticket_chart,
            wait_chart=wait_chart,
            minutes=_minutes,
            counter_name=lambda c: _counter_name(ctx, c),
            categories=[(c, _category_name(ctx, c)) for c in categories],
            ticket_hours=sorted(per_hour),
        )

    @api.get("/queue/kpi.csv")
    def kpi_csv(request: Request, branch: str = "", day: str = "") -> Response:
        require(session_of(request), *_ROLES)
        ctx = ctx_of(request)
        branch, day = _choice(ctx, branch, day)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        writer.writerows(kpi_rows(queue_of(ctx).kpis(branch, day)))
        return Response(
            "\ufeff" + out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="queue-kpi-{day}.csv"'},
        )

    return api
