"""書かない窓口 on the counter page: `/counter/prefill` shows the form data a resident attached at the kiosk.

Only while the visit is called or being served at the counter this browser works (the `mdg_counter`
cookie), to counter staff and operators; every showing is written to the audit log (who, when, which visit
and counter; never the data). The page is never cached (`no-store`). The counter panel links to it when
data is attached (`prefill_attached` in the templates, installed by `install`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from central_broker.accounts import Role
from central_broker.prefill.store import PrefilledVisit, counter_may_see
from central_broker.web.context import WebContext, ctx_of, session_of
from central_broker.web.i18n import current_language
from central_broker.web.i18n import gettext_ as _
from central_broker.web.queue_common import queue_of
from central_broker.web.queue_counter_pages import _chosen
from central_broker.web.security import require
from madoguchi.contracts.catalog_base import CatalogLookupError, tokyo

__all__ = ["install", "router"]

_logger = logging.getLogger(__name__)

ROLES = (Role.STAFF, Role.OPERATOR)
SEX_TEXTS = {"male": "Male", "female": "Female", "not_applicable": "Not stated"}


def install(ctx: WebContext) -> None:
    """Give the templates `prefill_attached(visit_id)` (the counter panel's link to this page)."""

    def attached(visit_id: int | None) -> bool:
        return visit_id is not None and ctx.prefill is not None and ctx.prefill.has(visit_id)

    ctx.templates.env.globals["prefill_attached"] = attached


def _date_text(yyyymmdd: str) -> str:
    return f"{yyyymmdd[:4]}-{yyyymmdd[4:6]}-{yyyymmdd[6:]}"


def _forms(ctx: WebContext, data: PrefilledVisit, lang: str) -> list[tuple[str, str]]:
    """(procedure name, form name) of each procedure the data fills."""
    forms = []
    for procedure_id in data.procedures:
        try:
            procedure = ctx.catalog.procedure(procedure_id)
        except CatalogLookupError:
            continue
        form = procedure.form.text(lang) if procedure.form is not None else ""
        forms.append((procedure.names.text(lang), form))
    return forms


def _refused(request: Request, status_code: int, message: str) -> Response:
    return ctx_of(request).render(
        request,
        "error.html",
        status_code=status_code,
        title=_("Form data not shown"),
        message=message,
        hint=_("Form data is shown only while the visit is called or served at your counter."),
    )


def router() -> APIRouter:
    """Routes of this module."""
    api = APIRouter()

    @api.get("/counter/prefill")
    def prefill_page(request: Request, visit_id: str = "") -> Response:
        session = require(session_of(request), *ROLES)
        ctx = ctx_of(request)
        queue = queue_of(ctx)
        desk = _chosen(request, ctx)
        if desk is None or not visit_id.isdigit() or ctx.prefill is None:
            return _refused(request, 409, _("Choose your counter and call the visit first."))
        visit = counter_may_see(queue, desk, int(visit_id))
        if visit is None:
            _logger.info(
                "counter %s/%s: prefill of visit id %s refused: not held here",
                desk.branch,
                desk.counter,
                visit_id,
            )
            return _refused(request, 409, _("This visit is not called at your counter."))
        data = ctx.prefill.read(visit.id)
        if data is None:
            return _refused(request, 404, _("No form data is attached to this visit."))
        ctx.accounts.audit(
            session.username,
            "prefill.view",
            f"visit {visit.number}",
            "counter %(counter)s, visit id %(visit)s",
            counter=desk.counter,
            visit=visit.id,
        )
        lang = current_language()
        today = datetime.fromtimestamp(ctx.clock(), UTC).astimezone(tokyo()).date().isoformat()
        values: dict[str, Any] = {
            "visit": visit,
            "fields": data.fields,
            "birth": _date_text(data.fields.birth_date),
            "sex": _(SEX_TEXTS[data.fields.sex.value]),
            "filed_on": today,
            "forms": _forms(ctx, data, lang),
        }
        response = ctx.render(request, "prefill_counter.html", **values)
        response.headers["Cache-Control"] = "no-store"
        return response

    return api
