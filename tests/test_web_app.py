"""The central web over HTTP (FastAPI TestClient): sign-in, CSRF, lockout, roles, headers, orders, KPIs."""

from __future__ import annotations

import csv
import io
import time
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from central_broker.accounts import Role
from central_broker.store import FleetStore
from central_broker.web import WebContext
from madoguchi.clock import SteppableClock
from madoguchi.contracts.messages import StatsBatch, StatsItem
from madoguchi.contracts.orders import OrderStatus
from tests.fixtures.web import PASSWORD, csrf_of, make_user, signed_in


def test_pages_need_a_sign_in(web_client: TestClient) -> None:
    """GIVEN no session WHEN any page is opened THEN it redirects to the sign-in page."""
    for path in ("/fleet", "/orders", "/kpi", "/audit", "/devices/jp-999999-k01", "/events"):
        response = web_client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/login", path


def test_security_headers_forbid_inline_scripts_and_framing(web_client: TestClient) -> None:
    """GIVEN any page WHEN served THEN CSP allows only this server's scripts, and framing/sniffing are off."""
    response = web_client.get("/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert "<script>" not in response.text and 'src="/static/live.js"' in response.text
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_sign_in_without_the_form_token_is_refused(web_context: WebContext, web_client: TestClient) -> None:
    """GIVEN a right password posted without the sign-in form's token THEN no session is opened."""
    name, password = make_user(web_context, Role.OPERATOR)
    response = web_client.post("/login", data={"username": name, "password": password, "csrf_token": "x"})
    assert response.status_code == 400 and "expired" in response.text
    assert web_client.get("/fleet", follow_redirects=False).status_code == 303


def test_wrong_passwords_lock_out_through_the_web(
    web_context: WebContext, web_client: TestClient, store_clock: SteppableClock
) -> None:
    """GIVEN 5 wrong passwords (each after the client's back-off) WHEN the right one is given from the same
    computer THEN the page says locked (423), audited."""
    name, password = make_user(web_context, Role.STAFF)
    for attempt in range(5):
        store_clock.advance(5)  # past the per-client back-off (1 s, 2 s after the 4th and 5th failure)
        token = csrf_of(web_client.get("/login").text)
        response = web_client.post(
            "/login", data={"username": name, "password": "nope nope nope", "csrf_token": token}
        )
        assert response.status_code == (423 if attempt == 4 else 401)
    store_clock.advance(5)
    token = csrf_of(web_client.get("/login").text)
    response = web_client.post("/login", data={"username": name, "password": password, "csrf_token": token})
    assert response.status_code == 423 and "locked" in response.text
    assert any(
        e.action == "account.locked" and e.target == name for e in web_context.accounts.audit_entries()
    )


def test_each_role_reaches_only_its_pages(web_context: WebContext, web_client: TestClient) -> None:
    """GIVEN staff, auditor and operator WHEN they open each area THEN only their role's pages answer 200."""
    expected = {
        Role.STAFF: {
            "/orders": 200,
            "/fleet": 403,
            "/alerts": 403,
            "/kpi": 403,
            "/audit": 403,
            "/catalog": 403,
        },
        Role.AUDITOR: {"/orders": 403, "/fleet": 403, "/kpi": 200, "/audit": 200, "/catalog": 403},
        Role.OPERATOR: {
            "/orders": 200,
            "/fleet": 200,
            "/alerts": 200,
            "/kpi": 200,
            "/audit": 403,
            "/catalog": 200,
        },
    }
    for role, pages in expected.items():
        web_client.cookies.clear()
        web_client.cookies.set("mdg_lang", "en")
        signed_in(web_client, *make_user(web_context, role))
        for path, status in pages.items():
            assert web_client.get(path).status_code == status, (role, path)
    staff_page = web_client.get("/orders").text
    assert 'href="/fleet"' in staff_page  # the operator's nav


def test_staff_creates_an_order_from_the_fee_table(web_context: WebContext, web_client: TestClient) -> None:
    """GIVEN staff signed in WHEN they register 2 除籍 THEN the order page shows ¥1,500, waiting, with QR and
    barcode images served as SVG, and the audit log names them."""
    name, _ = make_user(web_context, Role.STAFF)
    signed_in(web_client, name, PASSWORD)
    page = web_client.get("/orders").text
    assert "除籍全部事項証明書" in page and "¥750" in page
    response = web_client.post(
        "/orders", data={"csrf_token": csrf_of(page), "qty_joseki": "2", "qty_inkan_card_reissue": "0"}
    )
    assert response.status_code == 200
    order = web_context.orders.orders()[0]
    assert response.url.path == f"/orders/{order.code}"
    assert order.total_yen == 1500 and order.created_by == name and "¥1,500" in response.text
    assert 'data-status="waiting"' in response.text
    qr = web_client.get(f"/orders/{order.code}/qr.svg")
    assert qr.headers["content-type"] == "image/svg+xml" and b"<svg" in qr.content
    assert b"<svg" in web_client.get(f"/orders/{order.code}/barcode.svg").content
    assert any(e.action == "order.create" and e.actor == name for e in web_context.accounts.audit_entries())


def test_state_changing_forms_need_the_session_csrf_token(
    web_context: WebContext, web_client: TestClient
) -> None:
    """GIVEN a signed-in staff member WHEN a form is posted without or with a wrong token THEN 403, nothing made."""
    signed_in(web_client, *make_user(web_context, Role.STAFF))
    assert web_client.post("/orders", data={"qty_joseki": "1"}).status_code == 403
    assert web_client.post("/orders", data={"qty_joseki": "1", "csrf_token": "forged"}).status_code == 403
    assert web_context.orders.orders() == []


def test_bad_quantity_shows_a_clear_error(web_context: WebContext, web_client: TestClient) -> None:
    """GIVEN no item chosen WHEN registered THEN the page says the order has no items."""
    signed_in(web_client, *make_user(web_context, Role.STAFF))
    page = web_client.get("/orders").text
    response = web_client.post("/orders", data={"csrf_token": csrf_of(page), "qty_joseki": "0"})
    assert response.status_code == 400 and "no items" in response.text


def test_staff_resolve_unknown_and_refund_is_refused_by_policy(
    web_context: WebContext, web_client: TestClient
) -> None:
    """GIVEN an UNKNOWN payment WHEN staff record 'paid' with a note THEN it is paid; a refund is refused with
    the catalog's policy text (the sample catalog allows none)."""
    from madoguchi.contracts.orders import MarkPaidParams, PaidOutcome

    order = web_context.orders.create([("joseki", 1)], staff="x")
    params = MarkPaidParams(
        order_code=order.code, outcome=PaidOutcome.UNKNOWN, method="credit", amount_yen=750
    )
    web_context.orders.report_payment("jp-999999-k01", "6f1c2a8e-7d0b-4c1e-9a3f-2b5d8e7c6a10", params)
    name, _ = make_user(web_context, Role.STAFF)
    signed_in(web_client, name, PASSWORD)
    page = web_client.get(f"/orders/{order.code}").text
    assert "Resolve the unknown payment" in page
    response = web_client.post(
        f"/orders/{order.code}/resolve",
        data={"csrf_token": csrf_of(page), "outcome": "paid", "note": "journal: approved 123456"},
    )
    assert response.status_code == 200 and 'data-status="paid"' in response.text
    assert web_context.orders.get(order.code).status is OrderStatus.PAID
    policy = web_context.catalog.payment.refund.text.text("en")  # in the page's language
    assert policy in response.text
    refused = web_client.post(
        f"/orders/{order.code}/refund", data={"csrf_token": csrf_of(response.text), "note": "x"}
    )
    assert refused.status_code == 409 and policy in refused.text
    assert web_context.orders.get(order.code).status is OrderStatus.PAID


def _session(seq: int, ts: int, kind: str, **fields: object) -> StatsItem:
    return StatsItem.model_validate({"seq": seq, "ts": ts, "kind": kind, **fields})


def test_kpis_count_certificates_cashless_rate_times_and_ratings(
    web_context: WebContext, web_client: TestClient, central_store: FleetStore
) -> None:
    """GIVEN today's sessions from two kiosks WHEN the KPI page and CSV are opened THEN copies per type, cashless
    rate (1 of 2 semi-self payments), average time and satisfaction match what the kiosks sent."""
    now = int(time.time() * 1000)
    steps = {"pin": 20.0, "print": 40.0}
    first = [
        _session(1, now, "certificate_session", outcome="completed", type="juminhyo", copies=2, method="credit",
                 rating=5, total_seconds=60.0, step_seconds=steps, language="ja"),
        _session(2, now, "certificate_session", outcome="aborted", type="juminhyo", abort_reason="cancelled",
                 total_seconds=5.0, step_seconds={"pin": 5.0}, language="ja"),
        _session(3, now, "register_session", outcome="completed", method="qr", fee_yen=750, rating=4,
                 total_seconds=30.0, step_seconds={"pay": 30.0}, language="en"),
    ]  # fmt: skip
    second = [
        _session(1, now, "certificate_session", outcome="completed", type="inkan", copies=1, method="cash",
                 rating=3, total_seconds=90.0, step_seconds={"pin": 30.0, "print": 60.0}, language="ja"),
        _session(2, now, "register_session", outcome="completed", method="cash", fee_yen=300,
                 total_seconds=50.0, step_seconds={"pay": 50.0}, language="ja"),
    ]  # fmt: skip
    central_store.record_stats("jp-999999-k01", StatsBatch(batch=(1, 3), items=first))
    central_store.record_stats("jp-131016-k02", StatsBatch(batch=(1, 2), items=second))
    signed_in(web_client, *make_user(web_context, Role.AUDITOR))
    page = web_client.get("/kpi").text
    assert '<div class="big" id="kpi-issued">3</div>' in page
    assert '<div class="big" id="kpi-cashless">50.0 %</div>' in page
    assert '<div class="big" id="kpi-rating">4.00</div>' in page
    assert "<svg" in page and "Certificates issued per day" in page
    assert '<td>certificate_session</td><td class="num">75.0</td>' in page
    rows = list(csv.reader(io.StringIO(web_client.get("/kpi.csv").content.decode("utf-8-sig"))))
    issued = {
        (r[1], r[2]): int(r[3]) for r in rows[1:] if len(r) == 4 and r[0][:2] == "20" and r[3].isdigit()
    }
    assert issued == {("999999", "juminhyo"): 2, ("131016", "inkan"): 1}
    assert web_client.get("/kpi?first=2026-05-02&last=2026-05-01").status_code == 400


def test_kpis_count_certificates_per_branch_office(central_store: FleetStore) -> None:
    """GIVEN kiosks at two branch offices of one city (and one that never reported its office) WHEN the KPIs are
    computed THEN copies issued are counted per office, the unreported kiosk under its city code."""
    from central_broker.web.kpi_data import compute_kpis
    from madoguchi.contracts.catalog import load_sample_catalog
    from madoguchi.contracts.messages import StateMessage

    now = int(time.time() * 1000)
    for dev, branch in (("jp-999999-k01", "本庁舎"), ("jp-999999-k02", "北支所"), ("jp-999999-k03", None)):
        central_store.record_state(dev, StateMessage(online=True, epoch=1, ts=now, boot_id="b", app_ver="1",
                                                     branch=branch))  # fmt: skip
        item = _session(1, now, "certificate_session", outcome="completed", type="juminhyo", copies=2,
                        method="credit", total_seconds=60.0, step_seconds={"pin": 20.0})  # fmt: skip
        central_store.record_stats(dev, StatsBatch(batch=(1, 1), items=[item]))
    today = time.localtime()
    day = date(today.tm_year, today.tm_mon, today.tm_mday)
    report = compute_kpis(
        central_store.engine, load_sample_catalog(), day - timedelta(days=1), day + timedelta(days=1)
    )
    assert dict(report.issued_by(1)) == {"999999 本庁舎": 2, "999999 北支所": 2, "999999": 2}


def test_kpi_cache_counts_statistics_that_arrive_late_for_a_past_day(central_store: FleetStore) -> None:
    """GIVEN KPIs computed for a week WHEN a kiosk's outbox delivers sessions of three days ago
    THEN the next report counts them (the cached day is recomputed) and equals a fresh computation."""
    from datetime import date, timedelta

    from central_broker.web.kpi_data import KpiCache, compute_kpis, day_range
    from madoguchi.contracts.catalog import load_sample_catalog

    catalog = load_sample_catalog()
    today = date(2026, 6, 10)
    first = today - timedelta(days=6)
    noon = day_range(today, today)[0] + 12 * 3_600_000
    three_days_ago = noon - 3 * 86_400_000

    def cert(seq: int, ts: int, copies: int) -> StatsItem:
        return _session(seq, ts, "certificate_session", outcome="completed", type="juminhyo", copies=copies,
                        method="qr", total_seconds=10.0, step_seconds={"pin": 10.0}, language="ja")  # fmt: skip

    central_store.record_stats("jp-999999-k01", StatsBatch(batch=(1, 1), items=[cert(1, noon, 1)]))
    cache = KpiCache()
    assert sum(cache.report(central_store.engine, catalog, first, today).issued.values()) == 1
    central_store.record_stats(
        "jp-999999-k01",
        StatsBatch(batch=(2, 3), items=[cert(2, three_days_ago, 2), cert(3, three_days_ago, 4)]),
    )
    cached = cache.report(central_store.engine, catalog, first, today)
    fresh = compute_kpis(central_store.engine, catalog, first, today)
    assert cached.issued == fresh.issued and sum(cached.issued.values()) == 7
    assert dict(cached.issued_per_day())[(today - timedelta(days=3)).isoformat()] == 6
    assert (
        cached.cashless_payments == fresh.cashless_payments
        and cached.seconds["certificate_session"].count == 3
    )


def test_kpi_day_results_are_kept_in_the_database_for_the_next_process(central_store: FleetStore) -> None:
    """GIVEN KPIs computed by one process WHEN a new process asks THEN it reads the stored days (no
    statistics parsed) with equal results; WHEN a late row arrives for a stored day THEN it is recomputed."""
    from datetime import date
    from unittest import mock

    from central_broker.web import kpi_data
    from central_broker.web.kpi_data import KpiCache, day_range
    from central_broker.web.kpi_rollup import KpiRollup
    from madoguchi.contracts.catalog import load_sample_catalog

    catalog = load_sample_catalog()
    day = date(2026, 6, 1)
    noon = day_range(day, day)[0] + 12 * 3_600_000
    items = [
        _session(1, noon, "register_session", outcome="completed", method="emoney", fee_yen=300, rating=5,
                 total_seconds=20.0, step_seconds={"pay": 20.0}, language="ja"),
        _session(2, noon + 1, "register_session", outcome="completed", method="cash", fee_yen=300,
                 total_seconds=40.0, step_seconds={"pay": 40.0}, language="ja"),
    ]  # fmt: skip
    central_store.record_stats("jp-999999-k01", StatsBatch(batch=(1, 2), items=items))
    first = KpiCache(KpiRollup(central_store.engine)).report(central_store.engine, catalog, day, day)
    assert first.cashless_rate == 0.5 and first.seconds["register_session"].value == 30.0
    with mock.patch.object(kpi_data, "_accumulate", side_effect=AssertionError("statistics parsed again")):
        again = KpiCache(KpiRollup(central_store.engine)).report(central_store.engine, catalog, day, day)
    assert (again.cashless_rate, again.cashless_yen, again.rating.value) == (0.5, 300, 5.0)
    late = _session(3, noon + 2, "register_session", outcome="completed", method="qr", fee_yen=300,
                    total_seconds=30.0, step_seconds={"pay": 30.0}, language="ja")  # fmt: skip
    central_store.record_stats("jp-999999-k01", StatsBatch(batch=(3, 3), items=[late]))
    third = KpiCache(KpiRollup(central_store.engine)).report(central_store.engine, catalog, day, day)
    assert third.register_payments == 3 and third.cashless_payments == 2


def test_kpi_page_after_the_background_warm_up_reads_no_raw_statistics(
    web_context: WebContext,
    web_client: TestClient,
    central_store: FleetStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GIVEN statistics and one background warm-up pass (as `serve` runs at start) WHEN the KPI page is opened
    THEN it shows the counts without scanning a single raw statistics row; a new statistic for today is then
    picked up by the next pass."""
    from central_broker.web import kpi_data
    from central_broker.web.kpi_warm import KpiWarmer

    now = int(time.time() * 1000)
    items = [_session(1, now, "certificate_session", outcome="completed", type="juminhyo", copies=2,
                      method="credit", rating=5, total_seconds=60.0, step_seconds={"pin": 20.0})]  # fmt: skip
    central_store.record_stats("jp-999999-k01", StatsBatch(batch=(1, 1), items=items))
    warmer = KpiWarmer(web_context)
    warmer.warm_once()

    real_rows = kpi_data._rows

    def no_raw_scan(*args: object) -> list[object]:
        raise AssertionError("a request parsed raw statistics")

    monkeypatch.setattr(kpi_data, "_rows", no_raw_scan)
    signed_in(web_client, *make_user(web_context, Role.AUDITOR))
    assert '<div class="big" id="kpi-issued">2</div>' in web_client.get("/kpi").text

    more = [_session(2, now, "certificate_session", outcome="completed", type="inkan", copies=1, method="cash",
                     rating=4, total_seconds=50.0, step_seconds={"pin": 10.0})]  # fmt: skip
    central_store.record_stats("jp-999999-k01", StatsBatch(batch=(2, 2), items=more))
    monkeypatch.setattr(kpi_data, "_rows", real_rows)
    warmer.warm_once()
    monkeypatch.setattr(kpi_data, "_rows", no_raw_scan)
    assert '<div class="big" id="kpi-issued">3</div>' in web_client.get("/kpi").text
