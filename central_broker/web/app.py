"""The central web app: operators' fleet dashboard and KPIs, counter staff's orders, auditors' log, and
the public certificate check (`/verify`, no sign-in).

`create_app(ctx)` builds a FastAPI app from a `WebContext`; nothing runs at import. Pages are
server-rendered Jinja2; static files are bundled in the package (no CDN); live updates come over
server-sent events (`/events`).
"""

from __future__ import annotations

import logging
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.exceptions import HTTPException
from fastapi.staticfiles import StaticFiles
from starlette.responses import RedirectResponse, Response

from central_broker.web.audit_view import router as audit_router
from central_broker.web.auth_pages import router as auth_router
from central_broker.web.context import WebContext, ctx_of
from central_broker.web.control_pages import router as control_router
from central_broker.web.events import router as events_router
from central_broker.web.fleet_pages import router as fleet_router
from central_broker.web.guide_kpi_pages import router as guide_kpi_router
from central_broker.web.guide_pages import router as guide_router
from central_broker.web.guide_preview_pages import router as guide_preview_router
from central_broker.web.i18n import LanguageMiddleware
from central_broker.web.i18n import gettext_ as _
from central_broker.web.kpi_pages import router as kpi_router
from central_broker.web.order_pages import router as order_router
from central_broker.web.prefill_pages import install as install_prefill
from central_broker.web.prefill_pages import router as prefill_router
from central_broker.web.queue_board_pages import router as queue_board_router
from central_broker.web.queue_counter_pages import router as queue_counter_router
from central_broker.web.queue_kpi_pages import router as queue_kpi_router
from central_broker.web.queue_status_pages import router as queue_status_router
from central_broker.web.security import Forbidden, LoginRequired, SecurityHeaders
from central_broker.web.staff_call_pages import router as staff_call_router
from central_broker.web.verify_pages import router as verify_router

__all__ = ["create_app"]

_logger = logging.getLogger(__name__)


def create_app(ctx: WebContext) -> FastAPI:
    """The web app serving `ctx`."""
    app = FastAPI(title="Madoguchi central", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx
    app.add_middleware(SecurityHeaders)
    app.add_middleware(LanguageMiddleware)
    static = resources.files("central_broker.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    routers = (
        auth_router,
        audit_router,
        fleet_router,
        control_router,
        kpi_router,
        order_router,
        staff_call_router,
        events_router,
        verify_router,
        queue_counter_router,
        queue_board_router,
        queue_status_router,
        queue_kpi_router,
        prefill_router,
        guide_router,
        guide_preview_router,
        guide_kpi_router,
    )
    for make_router in routers:
        app.include_router(make_router())
    install_prefill(ctx)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _exc: LoginRequired) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return ctx_of(request).render(
            request,
            "error.html",
            status_code=403,
            title=_("Not allowed"),
            message=_("Your role (%(role)s) may not open this page.", role=_(exc.role.value)),
            hint=_("Ask an operator if you need it."),
        )

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        return ctx_of(request).render(
            request,
            "error.html",
            status_code=exc.status_code,
            title=_("Error %(code)s", code=exc.status_code),
            message=_(str(exc.detail)),
            hint=_("Go back and try again."),
        )

    return app
