"""Text made by page code reaches the operators' and staff pages in their language, and safely.

Page code builds messages from data (a kiosk's printer state, an unknown kiosk or order, a reversed KPI
period, an order that cannot change); each is translated when shown, never formatted first. Values that are
not catalog texts pass through `_()` escaped and unchanged.
"""

from __future__ import annotations

import re
import time

from fastapi.testclient import TestClient

from central_broker.accounts import Role
from central_broker.web import WebContext, create_app
from central_broker.web.context import _templates
from central_broker.web.i18n import use_language
from madoguchi.contracts.messages import (
    ComponentHealth,
    ComponentStatus,
    HealthMessage,
    PrinterHealth,
    StateMessage,
)
from madoguchi.contracts.orders import make_order_code
from tests.fixtures.web import csrf_of, make_user


def test_values_a_kiosk_sent_are_escaped_even_through_translation() -> None:
    """GIVEN a value that is not a catalog text (a kiosk's offline reason) WHEN a template passes it to `_()`
    THEN it is shown escaped and as is, `%` included; a placeholder's value is escaped too."""
    env = _templates().env
    with use_language("ja"):
        shown = env.from_string("{{ _(reason) }}").render(reason="<b>disk 95% full</b>")
        assert shown == "&lt;b&gt;disk 95% full&lt;/b&gt;"
        line = env.from_string('{{ _("The centre has never heard of kiosk %(id)s.", id=x) }}').render(x="<i>")
        assert line == "端末 &lt;i&gt; はセンターに登録されていません。"
        assert env.from_string("{{ _(status) }}").render(status="online") == "オンライン"


def _birth() -> StateMessage:
    return StateMessage(online=True, epoch=1, ts=int(time.time() * 1000), boot_id="b", app_ver="0.1.0")


def _paper_out() -> HealthMessage:
    ok = ComponentHealth(status=ComponentStatus.OK)
    return HealthMessage(
        ts=int(time.time() * 1000), epoch=1, app_ver="0.1.0", uptime=1, load=0, mem=1, disk=1,
        printer=PrinterHealth(status=ComponentStatus.OK, paper="out", cover="closed"), card_reader=ok,
        payment=ok, scanner=ok, touch=ok, net=ok, outbox_depth=0, clock_synced=True,
    )  # fmt: skip


def test_messages_made_by_page_code_follow_the_language(web_context: WebContext) -> None:
    """GIVEN a kiosk out of paper and a centre without signing keys WHEN an operator opens its page, an unknown
    kiosk, an unknown branch and a reversed KPI period THEN printer state, why commands are unavailable, the
    error messages and the chart titles are Japanese by default and English with the English switch."""
    web_context.fleet.record_state("jp-999999-k01", _birth())
    web_context.fleet.record_health("jp-999999-k01", _paper_out())
    with TestClient(create_app(web_context)) as client:
        name, password = make_user(web_context, Role.OPERATOR)
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert token is not None
        client.post("/login", data={"username": name, "password": password, "csrf_token": token.group(1)})
        device = client.get("/devices/jp-999999-k01").text
        assert "用紙切れ" in device and "paper out" not in device
        assert "遠隔コマンドは使えません: 署名鍵が設定されていません" in device
        unknown = client.get("/devices/jp-999999-k99")
        assert (
            unknown.status_code == 404
            and "端末 jp-999999-k99 はセンターに登録されていません。" in unknown.text
        )
        branch = client.get("/fleet/branch/000000")
        assert branch.status_code == 404 and "庁舎 000000 の端末はありません。" in branch.text
        reversed_period = client.get("/kpi?first=2026-05-02&last=2026-05-01")
        assert reversed_period.status_code == 400
        assert (
            "期間の開始日（2026-05-02）が終了日（2026-05-01）より後になっています。" in reversed_period.text
        )
        switch = 'href="/lang/en?next=/kpi%3Ffirst%3D2026-05-02%26last%3D2026-05-01"'  # back to the same page
        assert switch in reversed_period.text
        assert 'aria-label="日別の発行通数"' in client.get("/kpi").text

        client.get("/lang/en?next=/fleet")
        device = client.get("/devices/jp-999999-k01").text
        assert "paper out" in device and "用紙切れ" not in device
        assert "Remote commands are not available: no signing keys are configured" in device
        assert (
            "The centre has never heard of kiosk jp-999999-k99." in client.get("/devices/jp-999999-k99").text
        )
        assert "Dates are written YYYY-MM-DD." in client.get("/kpi?first=May").text
        assert 'aria-label="Certificates issued per day"' in client.get("/kpi").text


def _sign_in(client: TestClient, web_context: WebContext, role: Role) -> None:
    name, password = make_user(web_context, role)
    response = client.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": csrf_of(client.get("/login").text)},
    )
    assert response.status_code == 200 and "ログアウト" in response.text


def test_order_errors_reach_staff_in_their_language(web_context: WebContext) -> None:
    """GIVEN staff on the Japanese pages WHEN they register an empty order, cancel an order twice and open an
    unknown order THEN each error and its advice are Japanese (statuses too); in English they read as before."""
    with TestClient(create_app(web_context)) as client:
        _sign_in(client, web_context, Role.STAFF)
        page = client.get("/orders").text
        empty = client.post("/orders", data={"csrf_token": csrf_of(page), "qty_joseki": "0"})
        assert empty.status_code == 400
        assert (
            "納付する項目がありません" in empty.text and "手数料の項目を1つ以上入力してください" in empty.text
        )
        order = client.post("/orders", data={"csrf_token": csrf_of(page), "qty_joseki": "1"})
        code = web_context.orders.orders()[0].code
        for _attempt in range(2):
            again = client.post(
                f"/orders/{code}/cancel", data={"csrf_token": csrf_of(order.text), "note": "間違い"}
            )
        assert again.status_code == 409
        assert f"納付 {code} は「取消済」のため、「取消済」にできません" in again.text
        assert "納付一覧を再読み込みしてください" in again.text
        unknown = make_order_code("260101", 9999)
        missing = client.get(f"/orders/{unknown}")
        assert missing.status_code == 404 and f"納付 {unknown} はありません" in missing.text

        client.cookies.set("mdg_lang", "en")
        again = client.post(f"/orders/{code}/cancel", data={"csrf_token": csrf_of(order.text), "note": "x"})
        assert f"order {code} is cancelled; it cannot be cancelled" in again.text
        assert "reload the order list" in again.text
