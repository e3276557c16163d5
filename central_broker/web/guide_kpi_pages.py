"""The guide KPI page (operators and auditors): guide uses and completions per day and channel, わからない
rate per question (to improve the wording), tickets pre-queued from the guide, satisfaction (5-point);
SVG charts and a CSV of the same period. Linked from the KPI page."""

from __future__ import annotations

import csv
import io
import logging

from fastapi import APIRouter, Request
from starlette.responses import Response

from central_broker.accounts import Role
from central_broker.web.charts import bar_chart, hbar_chart
from central_broker.web.context import ctx_of, session_of
from central_broker.web.guide_kpi import GuideKpis, guide_kpis
from central_broker.web.i18n import current_language
from central_broker.web.i18n import gettext_ as _
from central_broker.web.kpi_pages import period
from central_broker.web.security import require

__all__ = ["router"]

_logger = logging.getLogger(__name__)

_ROLES = (Role.OPERATOR, Role.AUDITOR)


def _question_text(request: Request, question_id: str) -> str:
    guide = ctx_of(request).catalog.procedures
    found = next((q for q in guide.questions if q.id == question_id), None)
    return question_id if found is None else found.text.text(current_language())


def router() -> APIRouter:
    """Routes of this module."""
    api = APIRouter()

    def report(request: Request, first: str | None, last: str | None) -> GuideKpis:
        require(session_of(request), *_ROLES)
        ctx = ctx_of(request)
        start, end = period(ctx, first, last)
        return guide_kpis(ctx.fleet.engine, ctx.catalog.procedures, start, end)

    @api.get("/kpi/guide")
    def guide_kpi(request: Request, first: str | None = None, last: str | None = None) -> Response:
        data = report(request, first, last)
        unknown = [
            (_question_text(request, q.question), (q.rate or 0.0)) for q in data.questions if q.sessions
        ]
        charts = {
            "uses": bar_chart(data.per_day(data.uses), _("Guide uses per day")),
            "tickets": bar_chart(data.per_day(data.tickets), _("Tickets pre-queued from the guide per day")),
            "unknown": hbar_chart(
                sorted(unknown, key=lambda kv: -kv[1]), _("“I don't know” rate per question")
            ),
            "ratings": hbar_chart(
                [(str(k), float(data.ratings[k])) for k in range(1, 6)], _("Guide satisfaction (1–5)")
            ),
        }
        return ctx_of(request).render(
            request,
            "guide_kpi.html",
            r=data,
            charts=charts,
            question_text=lambda q: _question_text(request, q),
        )

    @api.get("/kpi/guide.csv")
    def guide_kpi_csv(request: Request, first: str | None = None, last: str | None = None) -> Response:
        data = report(request, first, last)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["day", "channel", "guide_uses", "guide_completions", "tickets_from_guide"])
        for day in data.days:
            for channel in data.channels:
                key = (day, channel)
                writer.writerow([day, channel, data.uses[key], data.completions[key], data.tickets[key]])
        writer.writerow([])
        writer.writerow(["question", "unknown_answers", "sessions", "unknown_rate"])
        for q in data.questions:
            writer.writerow([q.question, q.unknown, q.sessions, "" if q.rate is None else f"{q.rate:.4f}"])
        writer.writerow([])
        writer.writerow(["rating", "count"])
        for value in range(1, 6):
            writer.writerow([value, data.ratings[value]])
        name = f"guide-kpi-{data.first}-{data.last}.csv"
        return Response(
            out.getvalue().encode("utf-8-sig"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    return api
