"""KPI pages (operators and auditors): certificates by type, branch and day, cashless rate, average
times, satisfaction; SVG charts rendered here and a CSV export of the same period."""

from __future__ import annotations

import csv
import io
import logging
from datetime import UTC, date, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.exceptions import HTTPException
from starlette.responses import Response

from central_broker.accounts import Role
from central_broker.web.charts import bar_chart, hbar_chart
from central_broker.web.context import WebContext, ctx_of, session_of
from central_broker.web.i18n import current_language
from central_broker.web.i18n import gettext_ as _
from central_broker.web.kpi_data import KpiReport
from central_broker.web.kpi_steps import step_label
from central_broker.web.kpi_warm import shared_kpi_cache
from central_broker.web.security import require
from madoguchi.contracts.catalog_base import CatalogLookupError, tokyo

__all__ = ["period", "router"]

_logger = logging.getLogger(__name__)

_ROLES = (Role.OPERATOR, Role.AUDITOR)
MAX_DAYS = 366


def period(ctx: WebContext, first: str | None, last: str | None) -> tuple[date, date]:
    """The requested period; default the last 30 days (Japan dates) up to today."""
    today = datetime.fromtimestamp(ctx.clock(), UTC).astimezone(tokyo()).date()
    try:
        end = date.fromisoformat(last) if last else today
        start = date.fromisoformat(first) if first else end - timedelta(days=29)
    except ValueError as exc:
        raise HTTPException(400, _("Dates are written YYYY-MM-DD.")) from exc
    if start > end:
        raise HTTPException(
            400, _("The period starts (%(start)s) after it ends (%(end)s).", start=start, end=end)
        )
    if (end - start).days >= MAX_DAYS:
        raise HTTPException(400, _("Choose at most %(days)s days.", days=MAX_DAYS))
    return start, end


def _type_name(ctx: WebContext, type_id: str) -> str:
    try:
        return ctx.catalog.name_of(type_id, current_language())
    except CatalogLookupError:
        return type_id


def router() -> APIRouter:
    """Routes of this module."""
    api = APIRouter()

    def report(request: Request, first: str | None, last: str | None) -> KpiReport:
        require(session_of(request), *_ROLES)
        ctx = ctx_of(request)
        start, end = period(ctx, first, last)
        return shared_kpi_cache(ctx).report(ctx.fleet.engine, ctx.catalog, start, end)

    @api.get("/kpi")
    def kpi(request: Request, first: str | None = None, last: str | None = None) -> Response:
        data = report(request, first, last)
        ctx = ctx_of(request)
        by_type = [(_type_name(ctx, t), float(n)) for t, n in data.issued_by(2)]
        charts = {
            "per_day": bar_chart(
                [(d, float(n)) for d, n in data.issued_per_day()], _("Certificates issued per day")
            ),
            "by_type": hbar_chart(sorted(by_type, key=lambda kv: -kv[1]), _("Certificates by type")),
            "cashless": bar_chart(data.cashless_per_day(), _("Cashless rate per day"), percent=True),
        }
        steps = sorted(((k, s, m.value or 0.0, m.count) for (k, s), m in data.step_seconds.items()))
        return ctx.render(
            request,
            "kpi.html",
            r=data,
            charts=charts,
            steps=steps,
            step_label=step_label,
            type_name=lambda t: _type_name(ctx, t),
        )

    @api.get("/kpi.csv")
    def kpi_csv(request: Request, first: str | None = None, last: str | None = None) -> Response:
        data = report(request, first, last)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["day", "branch", "certificate_type", "copies_issued"])
        for (day, branch, type_id), copies in sorted(data.issued.items()):
            writer.writerow([day, branch, type_id, copies])
        writer.writerow([])
        writer.writerow(["day", "register_payments", "cashless_payments", "cashless_rate"])
        for day in data.days:
            total, cashless = data.daily_register[day], data.daily_cashless[day]
            writer.writerow([day, total, cashless, f"{cashless / total:.4f}" if total else ""])
        name = f"kpi-{data.first}-{data.last}.csv"
        return Response(
            out.getvalue().encode("utf-8-sig"),  # with BOM so spreadsheet programs read Japanese right
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    return api
