"""Sign-in (throttled per client, see `ratelimit.LoginGate`), sign-out and the start page per role."""

from __future__ import annotations

import logging
import math
import secrets
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from central_broker.accounts import LoginRefused, Role
from central_broker.web.context import ctx_of, session_of
from central_broker.web.i18n import LANG_COOKIE, WEB_LANGUAGES
from central_broker.web.i18n import gettext_ as _
from central_broker.web.security import LOGIN_CSRF_COOKIE, SESSION_COOKIE, check_csrf, require

__all__ = ["HOME", "client_of", "router", "verify_form"]

_logger = logging.getLogger(__name__)

HOME = {Role.OPERATOR: "/fleet", Role.STAFF: "/orders", Role.AUDITOR: "/audit"}


def verify_form(request: Request, token: str | None) -> None:
    """Refuse a state-changing form whose CSRF token is not the session's (403)."""
    session = session_of(request)
    if session is None or not check_csrf(session.csrf_token, token):
        _logger.warning("CSRF check failed on %s", request.url.path)
        raise HTTPException(403, _("The form's security token is missing or wrong (reload the page)."))


def client_of(request: Request) -> str:
    """The client's address (uvicorn takes it from X-Forwarded-For only when the proxy is trusted)."""
    return request.client.host if request.client else "-"


def _login_page(
    request: Request, error: str = "", hint: str = "", status: int = 200, retry_after_s: float = 0
) -> Response:
    token = secrets.token_urlsafe(24)
    ctx = ctx_of(request)
    response = ctx.render(
        request, "login.html", status_code=status, login_csrf=token, error=error, hint=hint, session=None
    )
    if retry_after_s:
        response.headers["Retry-After"] = str(math.ceil(retry_after_s))
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=ctx.secure_cookies, max_age=3600
    )
    return response


def _wait_text(seconds: float) -> str:
    """A wait, never shorter than it is: `45 s`, `2 min` (rounded up from 61 s and more)."""
    whole = math.ceil(seconds)
    return _("%(s)s s", s=whole) if whole < 120 else _("%(m)s min", m=math.ceil(whole / 60))


def _throttled(request: Request, wait_s: float) -> Response:
    """429: too many refused sign-ins from this client; says how long to wait (also in Retry-After)."""
    _logger.info("sign-in from %s throttled for %.1f s", client_of(request), wait_s)
    return _login_page(
        request,
        _("Too many sign-in attempts from this computer."),
        _("Wait %(wait)s, then try again.", wait=_wait_text(wait_s)),
        429,
        retry_after_s=wait_s,
    )


def router() -> APIRouter:
    """Routes of this module."""
    api = APIRouter()

    @api.get("/")
    def index(request: Request) -> Response:
        session = session_of(request)
        if session is None:
            return RedirectResponse("/login", status_code=303)
        return RedirectResponse(HOME[session.role], status_code=303)

    @api.get("/lang/{code}")
    def choose_language(request: Request, code: str, next: str = "/") -> Response:
        if code not in WEB_LANGUAGES:
            raise HTTPException(404, _("No such language."))
        local = (
            next.startswith("/")
            and not next.startswith("//")
            and "\\" not in next
            and next.isprintable()  # browsers drop tabs and newlines: "/\t/evil.example" is off-site
            and not urlsplit(next).netloc
        )
        response = RedirectResponse(next if local else "/", status_code=303)
        response.set_cookie(
            LANG_COOKIE, code, samesite="lax", secure=ctx_of(request).secure_cookies, max_age=365 * 86400
        )
        return response

    @api.get("/login")
    def login_form(request: Request) -> Response:
        return _login_page(request)

    @api.post("/login")
    def login(
        request: Request,
        username: str = Form(""),
        password: str = Form(""),
        csrf_token: str = Form(""),
    ) -> Response:
        ctx = ctx_of(request)
        gate, client = ctx.login_gate, client_of(request)
        assert gate is not None
        if wait := gate.admit(client):  # counts this try as refused until the password proves right
            return _throttled(request, wait)
        if not check_csrf(request.cookies.get(LOGIN_CSRF_COOKIE, ""), csrf_token):
            return _login_page(request, _("The sign-in form expired."), _("Sign in again."), 400)
        try:
            session = ctx.accounts.login(username.strip(), password, client=client)
        except LoginRefused as exc:
            values = {k: _(v) if isinstance(v, str) else v for k, v in exc.values.items()}
            return _login_page(
                request, _(exc.text, **values), _(exc.hint_text, **values), 423 if exc.locked else 401
            )
        gate.succeeded(client)
        response = RedirectResponse(HOME[session.role], status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            session.token,
            httponly=True,
            samesite="strict",
            secure=ctx.secure_cookies,
            max_age=ctx.accounts.session_ttl_s,
        )
        response.delete_cookie(LOGIN_CSRF_COOKIE)
        return response

    @api.post("/logout")
    def logout(request: Request, csrf_token: str = Form("")) -> Response:
        verify_form(request, csrf_token)
        session = require(session_of(request), *Role)
        ctx_of(request).accounts.logout(session.token)
        ctx_of(request).accounts.audit(session.username, "logout", session.username)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @api.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return api
