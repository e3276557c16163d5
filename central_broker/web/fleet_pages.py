"""Operator pages: fleet by branch, one branch, device detail, open alerts, catalog and app release rollouts.

Each live page has a `/fragment` twin that renders only its changing part; `static/live.js`
fetches it when `/events` says the fleet changed.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import HTTPException
from starlette.responses import Response

from central_broker.accounts import Role
from central_broker.releases.rollout import (
    ReleaseRollout,
    release_exceptions,
    release_failures,
    version_sort,
)
from central_broker.rollout.runner import read_status
from central_broker.web.context import WebContext, ctx_of, session_of
from central_broker.web.control_pages import COMMAND_LABELS, actions_unavailable
from central_broker.web.events import fleet_fingerprint
from central_broker.web.fleet_read import FleetReader
from central_broker.web.fleet_view import FleetView, build_fleet_view
from central_broker.web.i18n import gettext_ as _
from central_broker.web.security import require

__all__ = ["fleet_view_of", "router"]

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventRow:
    """One line of a device's event history (registry and device events merged)."""

    at: int
    code: str
    detail: str
    severity: str


@dataclass(frozen=True)
class _CachedView:
    presence: tuple[object, ...]
    health: object
    at: float
    view: FleetView


def _reader(ctx: WebContext) -> FleetReader:
    with ctx.cache_lock:
        reader: FleetReader = ctx.cache.setdefault("fleet_reader", FleetReader(ctx.fleet))
    return reader


def fleet_view_of(ctx: WebContext) -> FleetView:
    """The current fleet view: rebuilt when presence, alerts or acks changed, or when health changed and
    the cached one is older than `ctx.health_refresh_s` (so many operators and live refreshes share it)."""
    presence, health = fleet_fingerprint(ctx)
    with ctx.cache_lock:
        hit: _CachedView | None = ctx.cache.get("fleet")
    now = time.monotonic()
    fresh_health = hit is not None and (hit.health == health or now - hit.at < ctx.health_refresh_s)
    if hit is not None and hit.presence == presence and fresh_health:
        return hit.view
    names = {ctx.catalog.municipality.code: ctx.catalog.municipality.names.text("ja")}
    view = build_fleet_view(_reader(ctx).records(), ctx.fleet.alerts(open_only=True), names)
    with ctx.cache_lock:
        ctx.cache["fleet"] = _CachedView(presence, health, now, view)
    return view


def router() -> APIRouter:
    """Routes of this module."""
    api = APIRouter()

    def page(request: Request, template: str, **values: Any) -> Response:
        require(session_of(request), Role.OPERATOR)
        return ctx_of(request).render(request, template, **values)

    @api.get("/fleet")
    def fleet(request: Request) -> Response:
        require(session_of(request), Role.OPERATOR)
        return page(request, "fleet.html", view=fleet_view_of(ctx_of(request)))

    @api.get("/fleet/fragment")
    def fleet_fragment(request: Request) -> Response:
        require(session_of(request), Role.OPERATOR)
        return page(request, "fleet_fragment.html", view=fleet_view_of(ctx_of(request)))

    def branch_rows(request: Request, code: str) -> dict[str, Any]:
        view = fleet_view_of(ctx_of(request))
        summary = next((b for b in view.branches if b.code == code), None)
        if summary is None:
            raise HTTPException(404, _("There is no branch %(code)s in the fleet.", code=code))
        return {"branch": summary, "rows": [r for r in view.rows if r.branch == code]}

    @api.get("/fleet/branch/{code}")
    def branch(request: Request, code: str) -> Response:
        require(session_of(request), Role.OPERATOR)
        return page(request, "branch.html", **branch_rows(request, code))

    @api.get("/fleet/branch/{code}/fragment")
    def branch_fragment(request: Request, code: str) -> Response:
        require(session_of(request), Role.OPERATOR)
        return page(request, "branch_fragment.html", **branch_rows(request, code))

    def device_values(request: Request, device_id: str) -> dict[str, Any]:
        ctx = ctx_of(request)
        found = _reader(ctx).record(device_id)
        if found is None:
            raise HTTPException(404, _("The centre has never heard of kiosk %(id)s.", id=device_id))
        record, components = found
        rollout = next((r for r in ctx.fleet.rollout() if r.device_id == device_id), None)
        events = [
            EventRow(e.received_at, e.code, e.detail, "") for e in ctx.fleet.events(device_id, limit=30)
        ] + [
            EventRow(e.received_at, e.code, e.detail, e.severity)
            for e in ctx.fleet.device_events(device_id, limit=30)
        ]
        return {
            "device": record,
            "components": components,
            "alerts": ctx.fleet.alerts(open_only=False, device_id=device_id)[-50:],
            "events": sorted(events, key=lambda e: e.at, reverse=True)[:40],
            "acks": [a for a in ctx.fleet.acks(device_id) if a.kind == "cmd"][-30:],
            "rollout": rollout,
            "commands": COMMAND_LABELS,
            "actions_unavailable": actions_unavailable(ctx),
        }

    @api.get("/devices/{device_id}")
    def device(request: Request, device_id: str) -> Response:
        require(session_of(request), Role.OPERATOR)
        return page(request, "device.html", **device_values(request, device_id))

    @api.get("/devices/{device_id}/fragment")
    def device_fragment(request: Request, device_id: str) -> Response:
        require(session_of(request), Role.OPERATOR)
        return page(request, "device_fragment.html", **device_values(request, device_id))

    @api.get("/alerts")
    def alerts(request: Request) -> Response:
        require(session_of(request), Role.OPERATOR)
        return page(request, "alerts.html", alerts=ctx_of(request).fleet.alerts(open_only=True))

    @api.get("/alerts/fragment")
    def alerts_fragment(request: Request) -> Response:
        require(session_of(request), Role.OPERATOR)
        return page(request, "alerts_fragment.html", alerts=ctx_of(request).fleet.alerts(open_only=True))

    @api.get("/catalog")
    def catalog(request: Request) -> Response:
        require(session_of(request), Role.OPERATOR)
        ctx = ctx_of(request)
        rollout = ctx.fleet.rollout()
        states = Counter(r.state for r in rollout)
        versions = Counter(d.catalog_ver for d in ctx.fleet.devices())
        staged = read_status(ctx.fleet)
        release_staged = ReleaseRollout.read_status(ctx.fleet)
        apps = Counter(d.app_ver for d in ctx.fleet.devices())
        return page(
            request,
            "catalog.html",
            staged=staged,
            release_staged=release_staged,
            release_failures=release_failures(ctx.fleet, release_staged),
            release_exceptions=release_exceptions(ctx.fleet, release_staged),
            app_versions=sorted(apps.items(), key=lambda kv: (kv[0] is None, version_sort(kv[0]))),
            catalog=ctx.catalog,
            rollout=rollout,
            states=dict(sorted(states.items())),
            versions=sorted(versions.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)),
        )

    return api
