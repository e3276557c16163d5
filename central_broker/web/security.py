"""Web security: session cookie, CSRF check, role guard and the security headers on every response.

- The session cookie (`mdg_session`) is HttpOnly, SameSite=Strict, Secure when configured; the
  server keeps only its SHA-256 (see `AccountStore`).
- Every state-changing form carries the session's CSRF token in `csrf_token`; the sign-in form
  carries a pre-session token that is also in a cookie (double submit).
- CSP allows only this server's own scripts, styles and images: no inline script, no CDN.
"""

from __future__ import annotations

import hmac
import logging

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from central_broker.accounts import Role, WebSession

__all__ = [
    "CSP",
    "LOGIN_CSRF_COOKIE",
    "SESSION_COOKIE",
    "Forbidden",
    "LoginRequired",
    "SecurityHeaders",
    "check_csrf",
    "require",
]

_logger = logging.getLogger(__name__)

SESSION_COOKIE = "mdg_session"
LOGIN_CSRF_COOKIE = "mdg_login_csrf"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"  # generated SVG images carry style attributes
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class LoginRequired(Exception):
    """No valid session: the handler redirects to the sign-in page."""


class Forbidden(Exception):
    """Signed in, but the role may not do this."""

    def __init__(self, role: Role, needed: tuple[Role, ...]) -> None:
        super().__init__(f"{role.value} may not open this page")
        self.role = role
        self.needed = needed


class SecurityHeaders:
    """Adds the security headers (and no-store on pages) to every response.

    Pure ASGI: it only edits the response's start message, so a long event stream (500 residents following
    their status pages) passes straight through, without the task group, extra task and message buffer per
    connection that `BaseHTTPMiddleware` would hold for the stream's whole life.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request and decorate the response's headers."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_decorated(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _HEADERS.items():
                    headers.setdefault(name, value)
                is_svg = headers.get("content-type", "").startswith("image/svg")
                headers.setdefault("Content-Security-Policy", _SVG_CSP if is_svg else CSP)
                if not static:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_decorated)


def require(session: WebSession | None, *roles: Role) -> WebSession:
    """The session if its role is one of `roles`.

    Raises:
        LoginRequired: not signed in.
        Forbidden: wrong role.
    """
    if session is None:
        raise LoginRequired()
    if session.role not in roles:
        _logger.info("%s (%s) refused a page for %s", session.username, session.role, roles)
        raise Forbidden(session.role, roles)
    return session


def check_csrf(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a form's CSRF token with the expected one."""
    return bool(expected) and given is not None and hmac.compare_digest(expected.encode(), given.encode())
