"""The orders filter and the sign-in back-off in a real browser (Playwright driving Debian's headless Chromium).

Uses the browser fixtures of `test_web_browser`; screenshots go to `artifacts/screenshots/`.
"""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page

from central_broker.accounts import Role
from madoguchi.clock import SteppableClock
from madoguchi.contracts.orders import MarkPaidParams
from tests.fixtures.web import RunningWeb, make_user
from tests.test_web_browser import browser, mark_page, page, shot, sign_in, still_same_page

__all__ = ["browser", "page"]  # fixtures used here

pytestmark = [pytest.mark.slow]


def _rows(tab: Page) -> list[tuple[str, str]]:
    """(code, state) of the orders table's rows."""
    cells: list[tuple[str, str]] = tab.eval_on_selector_all(
        "#orders tr[data-order]", "rows => rows.map(r => [r.dataset.order, r.dataset.status])"
    )
    return [(code, status) for code, status in cells]


def test_staff_filter_and_search_orders_and_the_url_keeps_the_filter(
    page: Page, web_server: RunningWeb
) -> None:
    """GIVEN 2 waiting and 2 paid orders WHEN staff choose "paid", then search a payment reference, then show all
    THEN the list narrows each time, the URL carries the filter (a reload keeps it), and a new order made while
    "waiting" is shown arrives live — still filtered."""
    ctx = web_server.ctx
    orders = [ctx.orders.create([("joseki", 1)], staff="clerk") for _ in range(4)]
    for order, ref in ((orders[0], "QR-1001"), (orders[1], "QR-2002")):
        params = MarkPaidParams(
            order_code=order.code, method="qr", amount_yen=order.total_yen, payment_ref=ref
        )
        ctx.orders.report_payment("jp-999999-k01", str(uuid.uuid4()), params)
    sign_in(page, *make_user(ctx, Role.STAFF))
    assert len(_rows(page)) == 4

    page.select_option("#filter-status", "paid")
    page.click("#order-filter button[type=submit]")
    page.wait_for_url("**/orders?status=paid**")
    assert sorted(_rows(page)) == sorted([(orders[0].code, "paid"), (orders[1].code, "paid")])
    shot(page, "orders-filter-paid")

    page.fill("#filter-q", "qr-2002")
    page.click("#order-filter button[type=submit]")
    page.wait_for_url("**q=qr-2002**")
    assert parse_qs(urlsplit(page.url).query) == {"status": ["paid"], "q": ["qr-2002"]}
    assert _rows(page) == [(orders[1].code, "paid")]
    page.reload()
    assert _rows(page) == [(orders[1].code, "paid")] and page.input_value("#filter-q") == "qr-2002"
    assert page.input_value("#filter-status") == "paid"
    shot(page, "orders-search")

    page.click("#filter-clear")
    page.wait_for_url("**/orders")
    assert len(_rows(page)) == 4

    page.goto("/orders?status=waiting")
    mark_page(page)
    new = ctx.orders.create([("joseki", 2)], staff="clerk")
    page.wait_for_selector(f"#orders tr[data-order='{new.code}']")
    still_same_page(page)
    assert all(status == "waiting" for _code, status in _rows(page)) and len(_rows(page)) == 3


def test_the_sign_in_page_says_how_long_to_wait_after_repeated_failures(
    page: Page, web_server: RunningWeb, store_clock: SteppableClock
) -> None:
    """GIVEN four wrong passwords typed in a row WHEN a fifth is typed at once THEN the page (429, Retry-After)
    says there were too many attempts from this computer and to wait 1 s; after the wait the right password
    works."""
    name, password = make_user(web_server.ctx, Role.OPERATOR)
    for _ in range(4):
        sign_in(page, name, "not the password at all")
        assert "wrong user name or password" in page.inner_text("#login-error")
    with page.expect_response(lambda r: r.url.endswith("/login") and r.request.method == "POST") as answer:
        sign_in(page, name, password)
    assert answer.value.status == 429 and answer.value.headers["retry-after"] == "1"
    message = page.inner_text("#login-error")
    assert (
        "Too many sign-in attempts from this computer." in message and "Wait 1 s, then try again." in message
    )
    shot(page, "login-throttled")
    store_clock.advance(1)
    sign_in(page, name, password)
    assert page.url.endswith("/fleet")
