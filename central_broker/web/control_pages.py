"""Operator actions with a confirmation step: remote commands for one kiosk and the issuance kill switch.

The first POST shows what will happen and asks again; only the second POST (`confirm=yes`) signs
and publishes. Both are written to the audit log with the operator's name.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from central_broker.accounts import Role
from central_broker.web.auth_pages import verify_form
from central_broker.web.context import WebContext, ctx_of, session_of
from central_broker.web.fleet_actions import FleetActions
from central_broker.web.i18n import gettext_ as _
from central_broker.web.security import require
from madoguchi.contracts.base import municipality_of
from madoguchi.contracts.signed import CommandOp
from madoguchi.errors import UserError

__all__ = ["COMMAND_LABELS", "actions_unavailable", "router"]

_logger = logging.getLogger(__name__)

COMMAND_LABELS = {
    CommandOp.REBIRTH: "Re-announce (send state and health again)",
    CommandOp.RESTART_APP: "Restart the kiosk app",
    CommandOp.REBOOT: "Reboot the kiosk",
    CommandOp.FLUSH: "Send queued statistics now",
    CommandOp.COLLECT_LOGS: "Collect diagnostics",
    CommandOp.MAINTENANCE_ON: "Maintenance mode on (kiosk stops serving residents)",
    CommandOp.MAINTENANCE_OFF: "Maintenance mode off",
    CommandOp.PRINT_TEST_PAGE: "Print a test page",
}
_SCOPES = ("fleet", "municipality", "device")
_QUESTIONS = {
    ("suspend", "fleet"): "Suspend certificate issuance for the whole fleet?",
    ("suspend", "municipality"): "Suspend certificate issuance for municipality %(target)s?",
    ("suspend", "device"): "Suspend certificate issuance for kiosk %(target)s?",
    ("resume", "fleet"): "Resume certificate issuance for the whole fleet?",
    ("resume", "municipality"): "Resume certificate issuance for municipality %(target)s?",
    ("resume", "device"): "Resume certificate issuance for kiosk %(target)s?",
}


def actions_unavailable(ctx: WebContext) -> str:
    """Why remote actions cannot be sent, in the page's language ("" when they can)."""
    if ctx.actions is None:
        return _("no broker configured")
    return ctx.actions.unavailable_in(_)


def _actions(ctx: WebContext) -> FleetActions:
    reason = actions_unavailable(ctx)
    if ctx.actions is None or reason:
        raise HTTPException(409, _("Remote actions are not available: %(reason)s.", reason=reason))
    return ctx.actions


def router() -> APIRouter:
    """Routes of this module."""
    api = APIRouter()

    @api.post("/devices/{device_id}/commands")
    def command(
        request: Request,
        device_id: str,
        op: str = Form(""),
        confirm: str = Form(""),
        csrf_token: str = Form(""),
    ) -> Response:
        session = require(session_of(request), Role.OPERATOR)
        verify_form(request, csrf_token)
        ctx = ctx_of(request)
        if ctx.fleet.device(device_id) is None:
            raise HTTPException(404, _("The centre has never heard of kiosk %(id)s.", id=device_id))
        try:
            operation = CommandOp(op)
        except ValueError:
            raise HTTPException(400, _("%(op)r is not a remote command.", op=op)) from None
        if operation not in COMMAND_LABELS:  # staff-call answers go through /staff-calls
            raise HTTPException(400, _("%(op)r is not a remote command.", op=op))
        actions = _actions(ctx)
        if confirm != "yes":
            return ctx.render(
                request,
                "confirm.html",
                action=f"/devices/{device_id}/commands",
                question=_(
                    "Send “%(label)s” to kiosk %(id)s?", label=_(COMMAND_LABELS[operation]), id=device_id
                ),
                fields={"op": operation.value},
                back=f"/devices/{device_id}",
            )
        try:
            sent = actions.send_command(device_id, operation)
        except UserError as exc:
            raise HTTPException(502, f"{exc.message} ({exc.hint})") from exc
        ctx.accounts.audit(session.username, "command.send", device_id, f"{operation.value} {sent.cmd_id}")
        return RedirectResponse(f"/devices/{device_id}?sent={sent.cmd_id}", status_code=303)

    def control_values(ctx: WebContext) -> dict[str, Any]:
        unavailable = actions_unavailable(ctx)
        document = None
        confirmed = None
        if not unavailable and ctx.actions is not None:
            document = ctx.actions.control()
            confirmed = ctx.actions.control_confirmation()
        return {"unavailable": unavailable, "document": document, "confirmation": confirmed}

    @api.get("/control")
    def control(request: Request) -> Response:
        require(session_of(request), Role.OPERATOR)
        ctx = ctx_of(request)
        return ctx.render(request, "control.html", **control_values(ctx))

    @api.get("/control/fragment")
    def control_fragment(request: Request) -> Response:
        require(session_of(request), Role.OPERATOR)
        ctx = ctx_of(request)
        return ctx.render(request, "control_fragment.html", **control_values(ctx))

    @api.post("/control")
    def switch(
        request: Request,
        action: str = Form(""),
        scope: str = Form("fleet"),
        target: str = Form(""),
        message: str = Form(""),
        confirm: str = Form(""),
        csrf_token: str = Form(""),
    ) -> Response:
        session = require(session_of(request), Role.OPERATOR)
        verify_form(request, csrf_token)
        ctx = ctx_of(request)
        if action not in ("suspend", "resume") or scope not in _SCOPES:
            raise HTTPException(
                400, _("Choose suspend or resume, and the fleet, a municipality or a device.")
            )
        target = target.strip()
        if scope == "municipality" and not (len(target) == 6 and target.isdigit()):
            raise HTTPException(400, _("A municipality is its 6-digit code, e.g. 999999."))
        if scope == "device" and municipality_of(target) is None:
            raise HTTPException(400, _("A device is named like jp-999999-k01."))
        actions = _actions(ctx)
        where = "the whole fleet" if scope == "fleet" else f"{scope} {target}"
        if confirm != "yes":
            return ctx.render(
                request,
                "confirm.html",
                action="/control",
                question=_(_QUESTIONS[action, scope], target=target),
                fields={"action": action, "scope": scope, "target": target, "message": message},
                back="/control",
            )
        try:
            document = actions.switch_issuance(
                action == "suspend",
                actor=f"web:{session.username}",
                municipality=target if scope == "municipality" else None,
                device=target if scope == "device" else None,
                message=message.strip() or None,
            )
        except UserError as exc:
            raise HTTPException(502, f"{exc.message} ({exc.hint})") from exc
        ctx.accounts.audit(
            session.username, f"issuance.{action}", where, f"control version {document.version}"
        )
        return RedirectResponse("/control", status_code=303)

    return api
