"""Counter staff pages: register a payment order from the fee table, list orders (filter and search,
`order_list`), show its slip, follow its state, resolve an UNKNOWN payment with a note, refund only where
the catalog's policy allows, cancel an unpaid one.

Every change is written to the audit log with the staff member's name and, for resolve, refund and
cancel, the reason they gave.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from central_broker.accounts import Role, WebSession
from central_broker.orders import Order, OrderError, OrderErrorKind
from central_broker.web.auth_pages import verify_form
from central_broker.web.context import WebContext, ctx_of, session_of
from central_broker.web.i18n import current_language
from central_broker.web.i18n import gettext_ as _
from central_broker.web.order_list import list_values
from central_broker.web.security import require
from central_broker.web.slip_codes import barcode_svg, qr_svg
from madoguchi.contracts.catalog_base import CatalogLookupError, Channel
from madoguchi.contracts.orders import OrderStatus

__all__ = ["error_text", "fee_rows", "router"]

_logger = logging.getLogger(__name__)

_ROLES = (Role.STAFF, Role.OPERATOR)
_QTY_PREFIX = "qty_"
_AUDIT_NOTE = 500  # characters of a staff note (a cancel, refund or resolve reason) kept in the audit log
# The payment slip is for residents: Japanese and English together, whatever the page's language.
SLIP_TEXTS = {
    "title": "お支払い票 Payment slip",
    "total": "合計 Total",
    "where": "セミセルフレジでお支払いください / Please pay at the self-service register",
}


def fee_rows(ctx: WebContext) -> list[dict[str, object]]:
    """The catalog's fee table with today's price (items without a price in force are left out)."""
    at = datetime.fromtimestamp(ctx.clock(), UTC)
    rows: list[dict[str, object]] = []
    for item in ctx.catalog.fee_items:
        try:
            price = ctx.catalog.fee_item_price(item.id, at).amount_yen
        except CatalogLookupError:
            continue
        rows.append(
            {"id": item.id, "name": item.names.text("ja"), "en": item.names.text("en"), "price": price}
        )
    return rows


def _method_names(ctx: WebContext) -> dict[str, str]:
    return {m.id: m.names.text(current_language()) for m in ctx.catalog.payment.methods_for(Channel.COUNTER)}


def error_text(exc: OrderError) -> tuple[str, str]:
    """An order error's message and hint in the page's language (statuses in it translated too)."""
    values = {k: _(v) if isinstance(v, str) else v for k, v in exc.values.items()}
    return _(exc.text, **values), _(exc.hint)


def _order_or_404(ctx: WebContext, code: str) -> Order:
    try:
        return ctx.orders.get(code)
    except OrderError as exc:
        status = 404 if exc.kind is OrderErrorKind.NOT_FOUND else 400
        raise HTTPException(status, error_text(exc)[0]) from exc


def router() -> APIRouter:
    """Routes of this module."""
    api = APIRouter()

    def orders_page(request: Request, error: str = "", hint: str = "", status: int = 200) -> Response:
        ctx = ctx_of(request)
        return ctx.render(
            request,
            "orders.html",
            status_code=status,
            fees=fee_rows(ctx),
            methods=_method_names(ctx),
            error=error,
            hint=hint,
            **list_values(ctx, request.query_params),
        )

    @api.get("/orders")
    def orders(request: Request) -> Response:
        require(session_of(request), *_ROLES)
        return orders_page(request)

    @api.get("/orders/fragment")
    def orders_fragment(request: Request) -> Response:
        require(session_of(request), *_ROLES)
        ctx = ctx_of(request)
        return ctx.render(
            request,
            "orders_fragment.html",
            methods=_method_names(ctx),
            **list_values(ctx, request.query_params),
        )

    @api.post("/orders")
    async def create(request: Request) -> Response:
        session = require(session_of(request), *_ROLES)
        form = await request.form()
        verify_form(request, str(form.get("csrf_token", "")))
        items: list[tuple[str, int]] = []
        for key, value in form.multi_items():
            if not key.startswith(_QTY_PREFIX) or not str(value).strip():
                continue
            try:
                quantity = int(str(value))
            except ValueError:
                return orders_page(
                    request, _("Quantity %(value)r is not a number.", value=value), _("Enter 1-99."), 400
                )
            if quantity:
                items.append((key[len(_QTY_PREFIX) :], quantity))
        ctx = ctx_of(request)
        try:
            order = ctx.orders.create(items, staff=session.username)
        except OrderError as exc:
            return orders_page(request, *error_text(exc), 400)
        ctx.accounts.audit(session.username, "order.create", order.code, "%(yen)s yen", yen=order.total_yen)
        return RedirectResponse(f"/orders/{order.code}", status_code=303)

    def detail_values(request: Request, code: str) -> dict[str, Any]:
        ctx = ctx_of(request)
        policy = ctx.catalog.payment.refund
        return {
            "order": _order_or_404(ctx, code),
            "methods": _method_names(ctx),
            "refunds": policy.refunds,
            "refund_text": policy.text.text(current_language()),
            "Status": OrderStatus,
            "slip": SLIP_TEXTS,
        }

    @api.get("/orders/{code}")
    def order(request: Request, code: str) -> Response:
        require(session_of(request), *_ROLES)
        return ctx_of(request).render(request, "order.html", **detail_values(request, code))

    @api.get("/orders/{code}/fragment")
    def order_fragment(request: Request, code: str) -> Response:
        require(session_of(request), *_ROLES)
        return ctx_of(request).render(request, "order_fragment.html", **detail_values(request, code))

    @api.get("/orders/{code}/qr.svg")
    def qr(request: Request, code: str) -> Response:
        require(session_of(request), *_ROLES)
        found = _order_or_404(ctx_of(request), code)
        return Response(qr_svg(found.code, found.total_yen), media_type="image/svg+xml")

    @api.get("/orders/{code}/barcode.svg")
    def bar(request: Request, code: str) -> Response:
        require(session_of(request), *_ROLES)
        found = _order_or_404(ctx_of(request), code)
        return Response(barcode_svg(found.code), media_type="image/svg+xml")

    def change(
        request: Request, session: WebSession, code: str, action: str, run: object, note: str
    ) -> Response:
        ctx = ctx_of(request)
        try:
            assert callable(run)
            changed: Order = run()
        except OrderError as exc:
            values = detail_values(request, code)
            error, hint = error_text(exc)
            if exc.kind is OrderErrorKind.REFUSED:  # the refund policy, shown in the page's language
                error = values["refund_text"]
            return ctx.render(request, "order.html", status_code=409, error=error, hint=hint, **values)
        reason, status = note.strip()[:_AUDIT_NOTE], changed.status.value
        who, code = session.username, changed.code
        if reason:
            ctx.accounts.audit(
                who, action, code, "%(status)s; reason: %(reason)s", status=status, reason=reason
            )
        else:
            ctx.accounts.audit(who, action, code, "%(status)s; no reason given", status=status)
        return RedirectResponse(f"/orders/{changed.code}", status_code=303)

    @api.post("/orders/{code}/resolve")
    def resolve(
        request: Request, code: str, outcome: str = Form(""), note: str = Form(""), csrf_token: str = Form("")
    ) -> Response:
        session = require(session_of(request), *_ROLES)
        verify_form(request, csrf_token)
        if outcome not in ("paid", "not_paid"):
            raise HTTPException(400, _("Choose whether the terminal shows the payment as done or not."))
        orders = ctx_of(request).orders
        return change(
            request,
            session,
            code,
            "order.resolve",
            lambda: orders.resolve(code, paid=outcome == "paid", note=note, staff=session.username),
            note,
        )

    @api.post("/orders/{code}/refund")
    def refund(request: Request, code: str, note: str = Form(""), csrf_token: str = Form("")) -> Response:
        session = require(session_of(request), *_ROLES)
        verify_form(request, csrf_token)
        orders = ctx_of(request).orders
        return change(
            request,
            session,
            code,
            "order.refund",
            lambda: orders.refund(code, note=note, staff=session.username),
            note,
        )

    @api.post("/orders/{code}/cancel")
    def cancel(request: Request, code: str, note: str = Form(""), csrf_token: str = Form("")) -> Response:
        session = require(session_of(request), *_ROLES)
        verify_form(request, csrf_token)
        orders = ctx_of(request).orders
        return change(
            request,
            session,
            code,
            "order.cancel",
            lambda: orders.cancel(code, note=note, staff=session.username),
            note,
        )

    return api
