"""The orders list through the real app: filter by state, search by order code or payment reference (done by
the database), the filter kept in the URL and in the page links, paginated newest first; a cancellation's
reason reaches the audit log and the auditor's page."""

from __future__ import annotations

import re
import uuid

from fastapi.testclient import TestClient

from central_broker.accounts import Role
from central_broker.orders import Order
from central_broker.web import WebContext
from madoguchi.contracts.orders import MarkPaidParams
from tests.fixtures.web import csrf_of, make_user, signed_in

_ROW = re.compile(r'<tr data-order="(P\d{11})" data-status="(\w+)">')


def _listed(page: str) -> list[tuple[str, str]]:
    """(code, state) of each row of the orders table, in page order."""
    return _ROW.findall(page)


def _paid(ctx: WebContext, order: Order, ref: str) -> None:
    params = MarkPaidParams(order_code=order.code, method="qr", amount_yen=order.total_yen, payment_ref=ref)
    ctx.orders.report_payment("jp-999999-k01", str(uuid.uuid4()), params)


def test_staff_filter_orders_by_state_and_find_one_by_code_or_reference(
    web_context: WebContext, web_client: TestClient
) -> None:
    """GIVEN 3 waiting orders, 2 paid (references QR-77 and QR-78) and 1 cancelled WHEN staff filter by state or
    search a code fragment, a lower-case code, a reference or a scanned QR payload THEN only those orders are
    listed, the form shows the filter, and the live fragment lists the same rows."""
    orders = [web_context.orders.create([("joseki", 1)], staff="clerk") for _ in range(6)]
    _paid(web_context, orders[1], "QR-77")
    _paid(web_context, orders[2], "QR-78")
    web_context.orders.cancel(orders[3].code, note="resident left", staff="clerk")
    signed_in(web_client, *make_user(web_context, Role.STAFF))

    everything = web_client.get("/orders").text
    assert [code for code, _s in _listed(everything)] == [o.code for o in reversed(orders)]

    waiting = web_client.get("/orders", params={"status": "waiting"})
    assert waiting.status_code == 200
    assert {c for c, _s in _listed(waiting.text)} == {orders[0].code, orders[4].code, orders[5].code}
    assert '<option value="waiting" selected>' in waiting.text and 'id="filter-clear"' in waiting.text
    fragment = web_client.get("/orders/fragment", params={"status": "waiting"}).text
    assert _listed(fragment) == _listed(waiting.text)
    assert 'data-src="/orders/fragment?status=waiting"' in waiting.text  # live updates keep the filter

    by_ref = web_client.get("/orders", params={"q": "qr-7"}).text
    assert {c for c, _s in _listed(by_ref)} == {orders[1].code, orders[2].code}
    assert _listed(web_client.get("/orders", params={"q": "QR-78", "status": "paid"}).text) == [
        (orders[2].code, "paid")
    ]
    assert _listed(web_client.get("/orders", params={"q": "QR-78", "status": "waiting"}).text) == []

    code = orders[3].code
    for query in (code, code.lower(), f"MDG1:{code}:750", code[-6:]):
        assert _listed(web_client.get("/orders", params={"q": query}).text) == [(code, "cancelled")], query
    assert 'value="' + code.lower() + '"' in web_client.get("/orders", params={"q": code.lower()}).text

    none = web_client.get("/orders", params={"q": "%"}).text  # a LIKE wildcard is searched for literally
    assert _listed(none) == [] and "No orders match." in none


def test_an_unknown_state_in_the_url_is_a_clear_400(web_context: WebContext, web_client: TestClient) -> None:
    """GIVEN a hand-edited URL WHEN the state does not exist THEN 400 says so (not an empty or unfiltered list)."""
    signed_in(web_client, *make_user(web_context, Role.STAFF))
    response = web_client.get("/orders", params={"status": "lost"})
    assert response.status_code == 400 and "There is no order state &#39;lost&#39;." in response.text


def test_long_lists_are_paginated_and_the_pages_keep_the_filter(
    web_context: WebContext, web_client: TestClient
) -> None:
    """GIVEN more waiting orders than a page holds and one paid WHEN staff page through the waiting ones THEN
    each page has at most PAGE_SIZE rows, newest first, no row twice, and the links carry the filter."""
    from central_broker.web.order_list import PAGE_SIZE

    total = PAGE_SIZE + 5
    made = [web_context.orders.create([("joseki", 1)], staff="clerk") for _ in range(total)]
    _paid(web_context, made[0], "QR-1")
    signed_in(web_client, *make_user(web_context, Role.STAFF))

    first = web_client.get("/orders", params={"status": "waiting"}).text
    rows = _listed(first)
    assert len(rows) == PAGE_SIZE and all(s == "waiting" for _c, s in rows)
    assert rows[0][0] == made[-1].code
    assert 'href="/orders?status=waiting&amp;page=2"' in first and 'id="orders-newer"' not in first

    second = web_client.get("/orders?status=waiting&page=2").text
    more = _listed(second)
    assert len(more) == total - 1 - PAGE_SIZE and not {c for c, _s in more} & {c for c, _s in rows}
    assert 'href="/orders?status=waiting"' in second and 'id="orders-older"' not in second
    assert 'data-src="/orders/fragment?status=waiting&amp;page=2"' in second
    assert _listed(web_client.get("/orders/fragment?status=waiting&page=2").text) == more
    assert _listed(web_client.get("/orders?page=x").text) == _listed(web_client.get("/orders").text)


def test_a_cancellation_reason_is_in_the_audit_log_and_on_the_audit_page(
    web_context: WebContext, web_client: TestClient
) -> None:
    """GIVEN staff cancelling one order with a reason and one without WHEN an auditor opens the audit log THEN
    both entries say cancelled, one with the reason, the other that none was given, in Japanese by default."""
    first = web_context.orders.create([("joseki", 1)], staff="clerk")
    second = web_context.orders.create([("joseki", 1)], staff="clerk")
    signed_in(web_client, *make_user(web_context, Role.STAFF))
    for order, reason in ((first, "住民が<帰宅>した"), (second, "")):
        page = web_client.get(f"/orders/{order.code}").text
        response = web_client.post(
            f"/orders/{order.code}/cancel", data={"csrf_token": csrf_of(page), "note": reason}
        )
        assert response.status_code == 200 and 'data-status="cancelled"' in response.text
    entries = {e.target: e for e in web_context.accounts.audit_entries() if e.action == "order.cancel"}
    assert entries[first.code].detail == "cancelled; reason: 住民が<帰宅>した"
    assert entries[second.code].detail == "cancelled; no reason given"

    web_client.cookies.clear()
    web_client.cookies.set("mdg_lang", "en")
    signed_in(web_client, *make_user(web_context, Role.AUDITOR))
    web_client.cookies.set("mdg_lang", "ja")
    audit = web_client.get("/audit").text
    assert "取消済（理由: 住民が&lt;帰宅&gt;した）" in audit  # translated, and the reason escaped
    assert "取消済（理由の記載なし）" in audit
