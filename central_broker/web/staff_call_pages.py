"""Staff calls (職員を呼ぶ, R-34) for counter staff and operators: the live list, acknowledge, resolve.

`/staff-calls` lists the calls staff still have to answer (kiosk, step, how long it has waited, who
acknowledged it) and, below, the latest calls that ended; its fragment reloads on the SSE `calls`
event. Acknowledge and resolve are CSRF-protected POSTs, written to the audit log with the user's name
and sent to the kiosk as signed remote commands (`staff_call_ack`: the kiosk shows "staff are coming";
`staff_call_close`: its banner goes). Without signing keys the call is still answered here and the
page says the kiosk could not be told.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from central_broker.accounts import Role
from central_broker.store.staff_calls import StaffCallRecord
from central_broker.web.auth_pages import verify_form
from central_broker.web.context import WebContext, ctx_of, session_of
from central_broker.web.control_pages import actions_unavailable
from central_broker.web.i18n import gettext_ as _
from central_broker.web.security import require
from madoguchi.contracts.signed import CommandOp
from madoguchi.errors import UserError

__all__ = ["REASON_LABELS", "router"]

_logger = logging.getLogger(__name__)

ROLES = (Role.STAFF, Role.OPERATOR)
HISTORY = 30
# Reason codes a kiosk sends → English msgids; other codes (a flow's own) are shown as sent.
REASON_LABELS = {
    "resident": "The resident pressed “Call staff”",
    "payment_unknown": "Payment outcome unknown",
    "printer_unavailable": "Printer not ready",
    "print_failed": "Printing failed after payment",
    "card_left_behind": "Card left in the reader",
    "receipt_failed": "Receipt not printed",
}


def _values(ctx: WebContext) -> dict[str, Any]:
    return {
        "calls": ctx.fleet.staff_calls(live=True),
        "history": ctx.fleet.staff_calls(live=False, limit=HISTORY),
        "reasons": REASON_LABELS,
    }


def _tell_kiosk(ctx: WebContext, call: StaffCallRecord, op: CommandOp) -> str:
    """Send the kiosk its signed answer; "" when sent, else why not (in the page's language)."""
    reason = actions_unavailable(ctx)
    if reason or ctx.actions is None:
        return reason
    try:
        ctx.actions.send_command(call.device_id, op, ref=call.call_id)
    except UserError as exc:
        _logger.warning("staff call %s: %s not sent to %s: %s", call.call_id, op.value, call.device_id, exc)
        return f"{exc.message} ({exc.hint})"
    return ""


def router() -> APIRouter:
    """Routes of this module."""
    api = APIRouter()

    @api.get("/staff-calls")
    def calls(request: Request, unsent: str = "") -> Response:
        require(session_of(request), *ROLES)
        ctx = ctx_of(request)
        return ctx.render(request, "staff_calls.html", unsent=unsent, **_values(ctx))

    @api.get("/staff-calls/fragment")
    def calls_fragment(request: Request) -> Response:
        require(session_of(request), *ROLES)
        ctx = ctx_of(request)
        return ctx.render(request, "staff_calls_fragment.html", **_values(ctx))

    def answer(request: Request, device_id: str, call_id: str, csrf_token: str, resolve: bool) -> Response:
        session = require(session_of(request), *ROLES)
        verify_form(request, csrf_token)
        ctx = ctx_of(request)
        if ctx.fleet.staff_call(device_id, call_id) is None:
            raise HTTPException(404, _("There is no such staff call."))
        if resolve:
            changed = ctx.fleet.resolve_staff_call(device_id, call_id, session.username)
        else:
            changed = ctx.fleet.acknowledge_staff_call(device_id, call_id, session.username)
        if changed is None:  # someone else answered it first, or it ended: nothing to do
            return RedirectResponse("/staff-calls", status_code=303)
        action = "staff_call.resolve" if resolve else "staff_call.acknowledge"
        ctx.accounts.audit(session.username, action, device_id, f"{call_id} {changed.step} {changed.reason}")
        unsent = _tell_kiosk(
            ctx, changed, CommandOp.STAFF_CALL_CLOSE if resolve else CommandOp.STAFF_CALL_ACK
        )
        if unsent:
            return RedirectResponse("/staff-calls?unsent=1", status_code=303)
        return RedirectResponse("/staff-calls", status_code=303)

    @api.post("/staff-calls/{device_id}/{call_id}/acknowledge")
    def acknowledge(request: Request, device_id: str, call_id: str, csrf_token: str = Form("")) -> Response:
        return answer(request, device_id, call_id, csrf_token, resolve=False)

    @api.post("/staff-calls/{device_id}/{call_id}/resolve")
    def resolve(request: Request, device_id: str, call_id: str, csrf_token: str = Form("")) -> Response:
        return answer(request, device_id, call_id, csrf_token, resolve=True)

    return api
