"""What every page handler needs: the stores, the catalog, the templates and a few helpers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from central_broker.accounts import AccountStore, Role, WebSession
from central_broker.issuance.online import OnlineCheck
from central_broker.orders import OrderStore
from central_broker.prefill.store import PrefillStore
from central_broker.queue import QueueService
from central_broker.store import FleetStore
from central_broker.web.fleet_actions import FleetActions
from central_broker.web.fleet_view import alert_text
from central_broker.web.i18n import LANGUAGE_NAMES, current_language, gettext_, install_gettext
from central_broker.web.ratelimit import LoginGate, StatusGate, VerifyGate
from central_broker.web.security import SESSION_COOKIE
from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.catalog_base import local_time

__all__ = ["WebContext", "age_text", "ctx_of", "session_of", "time_text", "yen"]


def time_text(ms: int | None) -> str:
    """Japan time of an epoch-ms value, `2026-04-01 09:30:05`."""
    if ms is None:
        return "—"
    return local_time(datetime.fromtimestamp(ms / 1000, UTC)).strftime("%Y-%m-%d %H:%M:%S")


def age_text(seconds: float) -> str:
    """How long, for a person, in the request's language: `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h` (ja: 45秒 …)."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return gettext_("%(s)s s", s=seconds)
    if seconds < 3600:
        return gettext_("%(m)s min", m=seconds // 60)
    if seconds < 86400:
        return gettext_("%(h)s h %(m)s min", h=seconds // 3600, m=seconds % 3600 // 60)
    return gettext_("%(d)s d %(h)s h", d=seconds // 86400, h=seconds % 86400 // 3600)


def yen(amount: int | None) -> str:
    """`¥1,200`."""
    return "—" if amount is None else f"¥{amount:,}"


def _templates() -> Jinja2Templates:
    folder = resources.files("central_broker.web") / "templates"
    templates = Jinja2Templates(directory=str(folder))
    templates.env.filters["time"] = time_text
    templates.env.filters["yen"] = yen
    templates.env.filters["alert_text"] = alert_text
    templates.env.globals["Role"] = Role
    install_gettext(templates.env)  # `_()`, `ngettext()` and `{% trans %}` in the request's language
    return templates


@dataclass
class WebContext:
    """Shared state of the web app (one per process)."""

    fleet: FleetStore
    accounts: AccountStore
    orders: OrderStore
    catalog: Catalog
    actions: FleetActions | None = None
    secure_cookies: bool = False
    clock: Callable[[], float] = time.time
    sse_interval_s: float = 1.0
    health_refresh_s: float = 2.0  # a cached fleet view is reused this long when only health changed
    central_warnings: Callable[[], list[str]] = list  # e.g. CRLs about to expire, shown to operators
    online_check: OnlineCheck | None = None  # the public certificate check (None: no issuance here)
    verify_gate: VerifyGate | None = None  # its rate limits (made on the context's clock when None)
    login_gate: LoginGate | None = None  # sign-in throttling per client (made on the clock when None)
    queue: QueueService | None = None  # the visit queue (None: its pages answer 503)
    board_secret: bytes | None = None  # derives the display boards' keys (None: boards need a sign-in)
    guide_secret: bytes | None = None  # signs the web guide's visit codes (None: the result shows no code)
    queue_branches: tuple[str, ...] = ()  # branches offered on the counter page (empty: the fleet's)
    status_gate: StatusGate | None = None  # rate limits of the resident status page (made when None)
    prefill: PrefillStore | None = None  # 書かない窓口 data attached to visits (None: nothing is shown)
    templates: Jinja2Templates = field(default_factory=_templates)
    cache: dict[str, Any] = field(default_factory=dict)
    cache_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.verify_gate is None:
            self.verify_gate = VerifyGate(self.clock)
        if self.login_gate is None:
            self.login_gate = LoginGate(self.clock)
        if self.status_gate is None:
            self.status_gate = StatusGate(self.clock)

    def now_ms(self) -> int:
        """Central time in epoch ms."""
        return int(self.clock() * 1000)

    def age(self, ms: int | None) -> str:
        """How long ago `ms` was."""
        return "—" if ms is None else age_text((self.now_ms() - ms) / 1000)

    def render(self, request: Request, name: str, status_code: int = 200, **values: Any) -> Response:
        """Render a template with the session, CSRF token and helpers in scope."""
        session = session_of(request)
        values.setdefault("session", session)
        values.setdefault("csrf", session.csrf_token if session else "")
        values.setdefault("age", self.age)
        values.setdefault("municipality", self.catalog.municipality)
        values.setdefault("lang", current_language())
        values.setdefault("languages", list(LANGUAGE_NAMES.items()))
        if session is not None and session.role is Role.OPERATOR:
            values.setdefault("central_warnings", self.central_warnings())
        return self.templates.TemplateResponse(request, name, values, status_code=status_code)


def ctx_of(request: Request) -> WebContext:
    """The app's context."""
    context: WebContext = request.app.state.ctx
    return context


def session_of(request: Request) -> WebSession | None:
    """The signed-in session of this request, if any (looked up once per request)."""
    if "mdg_session" not in request.scope:
        token = request.cookies.get(SESSION_COOKIE, "")
        request.scope["mdg_session"] = ctx_of(request).accounts.session(token) if token else None
    found: WebSession | None = request.scope["mdg_session"]
    return found
