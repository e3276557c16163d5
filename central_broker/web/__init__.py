"""The central web: fleet dashboard and KPIs for operators, payment orders for counter staff, audit log.

`open_web_context(config)` opens the stores on the central database; `create_app(ctx)` builds the
FastAPI app; `WebServer` runs it with uvicorn. Nothing starts at import.
"""

from __future__ import annotations

from central_broker.web.app import create_app
from central_broker.web.context import WebContext
from central_broker.web.server import WebServer
from central_broker.web.setup import open_web_context

__all__ = ["WebContext", "WebServer", "create_app", "open_web_context"]
