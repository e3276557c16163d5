"""The public certificate check: `/verify` (page) and `/api/verify` (JSON), no sign-in.

Anyone holding a printed certificate types its serial and verification code (and, optionally, the
holder's name and birth date as printed) and learns what the city says about it (`OnlineCheck`):
status, type, issue time and the content digest — never personal data. Rate limited per client
address, per serial and overall (`VerifyGate`); a refusal is HTTP 429 with `Retry-After` and says how
long to wait. Behind a reverse proxy, run uvicorn with the proxy's forwarded address, or every client
shares one address and one limit.
"""

from __future__ import annotations

import logging
import math
from datetime import date, datetime

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response

from central_broker.issuance.online import CheckAnswer, CheckInputError, parse_code, parse_serial
from central_broker.web.context import WebContext, ctx_of
from central_broker.web.i18n import current_language
from central_broker.web.i18n import gettext_ as _
from madoguchi.contracts.catalog_base import CatalogLookupError

__all__ = ["Refused", "VerifyRequest", "router"]

_logger = logging.getLogger(__name__)


class Refused(Exception):
    """A check that is not run: bad input (400), rate limit (429) or no issuance here (503)."""

    def __init__(self, status: int, message: str, hint: str = "", retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.hint = hint
        self.retry_after_s = retry_after_s


class VerifyRequest(BaseModel):
    """The JSON request of `/api/verify`."""

    serial: str = Field(max_length=64)
    code: str = Field(max_length=64)
    name: str | None = Field(None, max_length=200)
    birth_date: str | None = Field(None, max_length=32)


def _too_many(which: str) -> str:
    if which == "overall":
        return _("The certificate check is busy.")
    if which == "serial":
        return _("This certificate number was checked too often.")
    return _("Too many checks from your connection.")


def _limited(found: tuple[str, float] | None) -> None:
    if found is None:
        return
    which, wait = found
    _logger.warning("online check refused: %s limit (retry in %.0f s)", which, wait)
    minutes = max(1, math.ceil(wait / 60))
    raise Refused(429, _too_many(which), _("Wait %(minutes)s min and try again.", minutes=minutes), wait)


def _holder(name: str, birth_date: str) -> tuple[str, date] | None:
    name, birth_date = name.strip(), birth_date.strip()
    if not name and not birth_date:
        return None
    if not name or not birth_date:
        raise CheckInputError("Give both the holder's name and birth date as printed, or neither.")
    try:
        return name, date.fromisoformat(birth_date)
    except ValueError as exc:
        raise CheckInputError("The birth date is a date such as 1990-04-01.") from exc


def _check(request: Request, serial: str, code: str, name: str, birth_date: str) -> CheckAnswer:
    ctx = ctx_of(request)
    if ctx.online_check is None:
        raise Refused(
            503,
            _("The online certificate check is not available here."),
            _("This central issues no certificates; ask the office that issued yours."),
        )
    gate = ctx.verify_gate
    assert gate is not None  # made by WebContext
    _limited(gate.refusal("overall", "all"))
    _limited(gate.refusal("client", request.client.host if request.client else "unknown"))
    try:
        parsed_serial, parsed_code = parse_serial(serial), parse_code(code)
        holder = _holder(name, birth_date)
    except CheckInputError as exc:
        raise Refused(400, _(str(exc)), _("Type the numbers exactly as printed on the certificate.")) from exc
    _limited(gate.refusal("serial", parsed_serial))
    return ctx.online_check.lookup(parsed_serial, parsed_code, holder)


def _type_name(ctx: WebContext, type_id: str | None) -> str:
    if type_id is None:
        return ""
    try:
        return ctx.catalog.certificate_type(type_id).names.text(current_language())
    except CatalogLookupError:
        return type_id


def _issued_text(issued_at: str | None) -> str:
    return datetime.fromisoformat(issued_at).strftime("%Y-%m-%d %H:%M") if issued_at else ""


def _page(request: Request, status: int = 200, **values: object) -> Response:
    ctx = ctx_of(request)
    values.setdefault("answer", None)
    values.setdefault("error", "")
    values.setdefault("hint", "")
    values.setdefault("form", {})
    return ctx.render(request, "verify.html", status_code=status, **values)


def _retry_headers(exc: Refused) -> dict[str, str]:
    return {} if exc.retry_after_s is None else {"Retry-After": str(math.ceil(exc.retry_after_s))}


def router() -> APIRouter:
    """Routes of this module."""
    api = APIRouter()

    @api.get("/verify")
    def verify_page(request: Request) -> Response:
        return _page(request)

    @api.post("/verify")
    def verify_submit(
        request: Request,
        serial: str = Form("", max_length=64),
        code: str = Form("", max_length=64),
        name: str = Form("", max_length=200),
        birth_date: str = Form("", max_length=32),
    ) -> Response:
        form = {"serial": serial, "name": name, "birth_date": birth_date}  # the code is not shown back
        try:
            answer = _check(request, serial, code, name, birth_date)
        except Refused as exc:
            response = _page(request, exc.status, error=exc.message, hint=exc.hint, form=form)
            response.headers.update(_retry_headers(exc))
            return response
        ctx = ctx_of(request)
        return _page(
            request,
            answer=answer,
            type_name=_type_name(ctx, answer.type_id),
            issued=_issued_text(answer.issued_at),
            answer_days=ctx.online_check.answer_days if ctx.online_check else 0,
            form=form,
        )

    @api.post("/api/verify")
    def verify_api(request: Request, body: VerifyRequest) -> Response:
        try:
            answer = _check(request, body.serial, body.code, body.name or "", body.birth_date or "")
        except Refused as exc:
            content: dict[str, object] = {"error": exc.message, "hint": exc.hint}
            if exc.retry_after_s is not None:
                content["retry_after_s"] = math.ceil(exc.retry_after_s)
            return JSONResponse(content, status_code=exc.status, headers=_retry_headers(exc))
        data = answer.to_dict()
        data["type_name"] = _type_name(ctx_of(request), answer.type_id) or None
        return JSONResponse(data)

    return api
