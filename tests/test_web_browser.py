"""The central web in a real browser: Playwright drives Debian's headless Chromium against a running server.

Live updates are checked without reloading: each test marks the page's `window` and asserts the
mark survives, so a change that shows up came over server-sent events, not a new page load.
Screenshots of every page go to `artifacts/screenshots/` (git-ignored).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, Page, sync_playwright

from central_broker.accounts import Role
from central_broker.broker import MosquittoBroker
from central_broker.catalog_push import SigningKeys
from central_broker.catalog_push.publisher import Outgoing
from central_broker.ingest import Ingest
from central_broker.store import DeviceStatus, FleetStore
from central_broker.web.fleet_actions import FleetActions
from central_broker.web.fleet_view import branch_code
from kiosk_app.rpc_client import RpcClient
from madoguchi.clock import SteppableClock
from madoguchi.config.broker import BrokerConfig
from madoguchi.config.kiosk import SIMULATED_BRANCH
from madoguchi.contracts.messages import (
    AlertMessage,
    ComponentHealth,
    ComponentStatus,
    HealthMessage,
    PrinterHealth,
    Severity,
    StateMessage,
    StatsBatch,
    StatsItem,
)
from madoguchi.contracts.orders import OrderStatus, parse_slip
from madoguchi.contracts.topics import FLEET_KEYS, Up, up
from tests.fixtures.central_store import wait_for_device
from tests.fixtures.fleet import KioskProcess, new_device_id
from tests.fixtures.fleet_signing import publish, trusting_agent
from tests.fixtures.mosquitto import mqtt_publish
from tests.fixtures.web import RunningWeb, make_user

pytestmark = [pytest.mark.slow, pytest.mark.mosquitto]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
WAIT_MS = 30_000  # live updates on a loaded 2-core machine can lag; a pass never waits this long


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium under Playwright (the Playwright browser download is not used)."""
    if shutil.which(CHROMIUM) is None:
        pytest.skip("chromium is not installed (scripts/bootstrap.sh installs it)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as play:
        launched = play.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, web_server: RunningWeb) -> Iterator[Page]:
    """A fresh browser context (no cookies) on the test's server."""
    context = browser.new_context(
        base_url=web_server.url, viewport={"width": 1280, "height": 900}, locale="en-US"
    )  # English pages (Accept-Language); Japanese is the default
    context.set_default_timeout(WAIT_MS)
    tab = context.new_page()
    yield tab
    context.close()


def shot(tab: Page, name: str) -> None:
    """Save a full-page screenshot as a test artifact."""
    tab.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(tab: Page, name: str, password: str) -> None:
    """Sign in through the form."""
    tab.goto("/login")
    tab.fill("#username", name)
    tab.fill("#password", password)
    tab.click("button[type=submit]")
    tab.wait_for_load_state()


def mark_page(tab: Page) -> None:
    """Tag the current document; `still_same_page` fails if it was reloaded."""
    tab.evaluate("window.__noReload = 'yes'")
    tab.wait_for_selector("body[data-live-connected=yes]")


def still_same_page(tab: Page) -> None:
    """The page was updated in place (server-sent events), not reloaded."""
    assert tab.evaluate("window.__noReload") == "yes"


def settled_online(store: FleetStore) -> int:
    """Online kiosks once the store has stopped changing for 0.5 s (at most 5 s)."""
    deadline = time.monotonic() + 5
    last = [(d.device_id, d.status) for d in store.devices()]
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = [(d.device_id, d.status) for d in store.devices()]
        if now == last:
            break
        last = now
    return sum(1 for _, status in last if status is DeviceStatus.ONLINE)


def test_operator_sees_a_kiosk_go_offline_and_come_back_live(
    page: Page,
    web_server: RunningWeb,
    ingest: Ingest,
    mosquitto: MosquittoBroker,
    central_store: FleetStore,
    kiosk_process: Callable[..., KioskProcess],
) -> None:
    """GIVEN an operator on the fleet page WHEN a simulated kiosk starts, stops and starts again
    THEN the fleet and device pages show online → offline → online without a reload."""
    name, password = make_user(web_server.ctx, Role.OPERATOR)
    before = settled_online(central_store)  # retained states of earlier tests' kiosks arrive first
    sign_in(page, name, password)
    assert page.url.endswith("/fleet")
    assert page.inner_text("#count-online") == str(before)
    mark_page(page)
    device = new_device_id()
    kiosk = kiosk_process(mosquitto, device)
    page.wait_for_selector(f"#count-online:text-is('{before + 1}')")
    still_same_page(page)
    shot(page, "fleet")

    wait_for_device(central_store, device, lambda r: r.health is not None, what="its first health")
    page.goto(f"/devices/{device}")
    page.wait_for_selector("#components")
    assert "online" in page.inner_text("#device-status")
    mark_page(page)
    shot(page, "device-online")
    assert kiosk.terminate() == 0
    page.wait_for_selector("#device-status:has-text('offline')")
    still_same_page(page)
    shot(page, "device-offline")

    kiosk_process(mosquitto, device, data_dir=kiosk.data_dir)
    page.wait_for_selector("#device-status:has-text('online')")
    still_same_page(page)
    wait_for_device(central_store, device, lambda r: r.status is DeviceStatus.ONLINE)

    page.goto(f"/fleet/branch/{branch_code(device[3:9], SIMULATED_BRANCH)}")
    assert page.get_attribute(f"#dev-{device}", "data-status") == "online"
    assert SIMULATED_BRANCH in page.inner_text("h1")  # the kiosk's branch office, from its birth
    shot(page, "branch")
    page.goto("/catalog")
    assert "version 1" in page.inner_text("main")
    shot(page, "catalog")


def _health(paper: str, cover: str) -> bytes:
    ok = ComponentHealth(status=ComponentStatus.OK)
    printer = PrinterHealth(status=ComponentStatus.OK, paper=paper, cover=cover)  # type: ignore[arg-type]
    return HealthMessage(
        ts=int(time.time() * 1000), epoch=1, app_ver="0.1.0", uptime=10, load=0.1, mem=20, disk=30,
        printer=printer, card_reader=ok, payment=ok, scanner=ok, touch=ok, net=ok, outbox_depth=0,
        clock_synced=True,
    ).to_bytes()  # fmt: skip


def clear_retained(broker: MosquittoBroker, topic: str) -> None:
    """Publish the empty retained payload that clears an alert (`mosquitto_pub -n`: a null message)."""
    command = [
        "mosquitto_pub",
        "-V",
        "mqttv5",
        "-h",
        broker.host,
        "-p",
        str(broker.port),
        "-t",
        topic,
        "-n",
        "-r",
        "-q",
        "1",
    ]
    subprocess.run(command, check=True, timeout=10, capture_output=True)


def test_printer_alert_is_raised_and_cleared_live(
    page: Page, web_server: RunningWeb, ingest: Ingest, mosquitto: MosquittoBroker
) -> None:
    """GIVEN a kiosk whose printer runs out of paper WHEN it raises and later clears its retained alert
    THEN the alerts page lists it with its age, and the fleet page flags the printer, then both clear."""
    name, password = make_user(web_server.ctx, Role.OPERATOR)
    sign_in(page, name, password)
    device = new_device_id()
    now = int(time.time() * 1000)
    birth = StateMessage(online=True, epoch=1, ts=now, boot_id="b-1", app_ver="0.1.0", catalog_ver=1)
    mqtt_publish(mosquitto, up(device, Up.STATE), birth.to_bytes(), retain=True)
    mqtt_publish(mosquitto, up(device, Up.HEALTH), _health("ok", "closed"), qos=0)
    page.goto("/alerts")
    # The session broker keeps other tests' retained alerts: look only at this kiosk's row.
    row_selector = f"[data-alert='{device}/printer-paper']"
    assert page.query_selector(row_selector) is None
    mark_page(page)

    alert = AlertMessage(
        ts=now,
        code="printer.paper_out",
        severity=Severity.ERROR,
        detail="receipt printer out of paper",
        since=now - 120_000,
    )
    topic = up(device, Up.ALERT, "printer-paper")
    mqtt_publish(mosquitto, up(device, Up.HEALTH), _health("out", "open"), qos=0)
    mqtt_publish(mosquitto, topic, alert.to_bytes(), retain=True)
    row = page.wait_for_selector(row_selector)
    text = row.inner_text()
    assert "printer.paper_out" in text and ("2 min" in text or "3 min" in text)
    still_same_page(page)
    shot(page, "alerts-open")

    page.goto("/fleet")
    flagged = page.inner_text(f"#dev-{device}")
    assert "paper out" in flagged and "cover open" in flagged and "printer.paper_out" in flagged
    shot(page, "fleet-printer-alert")
    page.goto(f"/devices/{device}")
    assert page.get_attribute("[data-alert='printer-paper']", "data-open") == "yes"
    shot(page, "device-printer-alert")

    page.goto("/alerts")
    mark_page(page)
    mqtt_publish(mosquitto, up(device, Up.HEALTH), _health("ok", "closed"), qos=0)
    clear_retained(mosquitto, topic)
    page.wait_for_selector(row_selector, state="detached")
    still_same_page(page)
    shot(page, "alerts-cleared")
    clear_retained(mosquitto, up(device, Up.STATE))  # leave no retained birth for later tests


def test_order_turns_paid_when_a_kiosk_pays_it(
    page: Page, web_server: RunningWeb, rpc_kiosk: Callable[[str], RpcClient]
) -> None:
    """GIVEN counter staff registering 2 除籍 WHEN a kiosk scans the slip's QR code, looks the order up and pays
    THEN the order page turns from waiting to paid without a reload."""
    name, password = make_user(web_server.ctx, Role.STAFF)
    sign_in(page, name, password)
    assert page.url.endswith("/orders")
    shot(page, "orders")
    page.fill("#qty_joseki", "2")
    page.click("#new-order button[type=submit]")
    page.wait_for_selector("#order-status[data-status=waiting]")
    shot(page, "order-waiting")

    qr_png = SHOTS / "slip-qr.png"
    page.locator("#slip-qr").screenshot(path=str(qr_png))
    decoded = [r.text for r in zxingcpp.read_barcodes(Image.open(qr_png))]
    assert len(decoded) == 1 and decoded[0].endswith(":1500"), decoded
    code = parse_slip(decoded[0])
    assert page.url.endswith(f"/orders/{code}")

    mark_page(page)
    kiosk = rpc_kiosk("jp-999999-k31")
    order = kiosk.call("payment.lookup", {"order_code": code})["order"]
    assert order["total_yen"] == 1500
    kiosk.call(
        "payment.mark_paid", {"order_code": code, "method": "qr", "amount_yen": 1500, "payment_ref": "Q-1"}
    )
    page.wait_for_selector("#order-status[data-status=paid]")
    still_same_page(page)
    assert "jp-999999-k31" in page.inner_text("#order-facts")
    shot(page, "order-paid")
    assert web_server.ctx.orders.get(code).status is OrderStatus.PAID


def test_staff_cannot_reach_operator_pages(page: Page, web_server: RunningWeb) -> None:
    """GIVEN counter staff signed in WHEN they open the fleet, alerts or audit pages THEN 403 "Not allowed"."""
    name, password = make_user(web_server.ctx, Role.STAFF)
    sign_in(page, name, password)
    assert page.locator("header nav a[href='/fleet']").count() == 0
    for path in ("/fleet", "/alerts", "/kpi", "/audit"):
        response = page.goto(path)
        assert response.status == 403, path
        assert "Not allowed" in page.inner_text("main")
    shot(page, "staff-forbidden")


def test_wrong_passwords_lock_the_account(
    page: Page, web_server: RunningWeb, store_clock: SteppableClock
) -> None:
    """GIVEN five wrong passwords (each after this computer's back-off) WHEN the right one is typed THEN the
    page still says the account is locked."""
    name, password = make_user(web_server.ctx, Role.OPERATOR)
    for _ in range(5):
        store_clock.advance(5)  # past the back-off (1 s, 2 s after the 4th and 5th failure)
        sign_in(page, name, "not the password at all")
    assert "locked" in page.inner_text("#login-error")
    store_clock.advance(5)
    sign_in(page, name, password)
    assert "locked" in page.inner_text("#login-error")
    assert page.url.endswith("/login")
    shot(page, "login-locked")


def test_auditor_reads_the_audit_log_and_kpis(page: Page, web_server: RunningWeb) -> None:
    """GIVEN an operator locked out and an order made WHEN an auditor signs in THEN the audit log lists both."""
    web_server.ctx.orders.create([("joseki", 1)], staff="tanaka")
    web_server.ctx.accounts.audit("tanaka", "order.create", "P00000000000", "750 yen")
    name, password = make_user(web_server.ctx, Role.AUDITOR)
    page.goto("/login")
    shot(page, "login")
    sign_in(page, name, password)
    assert page.url.endswith("/audit")
    table = page.inner_text("#audit")
    assert "order.create" in table and "user.add" in table and f"login\t{name}" in table
    shot(page, "audit")
    now = int(time.time() * 1000)
    items = [
        StatsItem.model_validate({
            "seq": n + 1, "ts": now - (n % 7) * 86_400_000, "kind": "certificate_session" if n % 3 else "register_session",
            "outcome": "completed", "type": ("juminhyo", "inkan", "kazei")[n % 3], "copies": 1 + n % 2,
            "method": ("cash", "qr", "credit", "emoney")[n % 4], "fee_yen": 300, "rating": 3 + n % 3,
            "total_seconds": 60.0 + n, "step_seconds": {"pin": 20.0, "pay": 20.0 + n}, "language": "ja",
        })
        for n in range(40)
    ]  # fmt: skip
    web_server.ctx.fleet.record_stats("jp-999999-k01", StatsBatch(batch=(1, 40), items=items))
    page.goto("/kpi")
    assert page.locator("svg.chart").count() == 3
    assert page.inner_text("#kpi-issued") != "0" and "%" in page.inner_text("#kpi-cashless")
    shot(page, "kpi")


def test_operator_sends_a_confirmed_command_and_sees_it_done(
    page: Page,
    web_server: RunningWeb,
    ingest: Ingest,
    mosquitto: MosquittoBroker,
    central_store: FleetStore,
    signing_keys: SigningKeys,
    tmp_path: Path,
) -> None:
    """GIVEN a kiosk that trusts the centre's keys WHEN an operator sends "maintenance on" and confirms
    THEN the kiosk runs it and the device page shows ACCEPTED then DONE without a reload."""
    web_server.ctx.actions = FleetActions(BrokerConfig(url=mosquitto.url), signing_keys.dir, central_store)
    device = new_device_id()
    with trusting_agent(mosquitto, signing_keys, tmp_path / "k", device) as (agent, _services):
        publish(mosquitto, Outgoing(FLEET_KEYS, signing_keys.keys_document().to_bytes()))
        wait_for_device(central_store, device, lambda r: r.status is DeviceStatus.ONLINE)
        name, password = make_user(web_server.ctx, Role.OPERATOR)
        sign_in(page, name, password)
        page.goto(f"/devices/{device}")
        page.select_option("#command-op", "maintenance_on")
        page.click("#command-form button[type=submit]")
        assert "maintenance" in page.inner_text("#question").lower() and device in page.inner_text(
            "#question"
        )
        shot(page, "command-confirm")
        assert not agent.maintenance.is_set()  # nothing is sent before the confirmation
        page.click("#confirm")
        page.wait_for_selector("#device-acks")
        mark_page(page)
        page.wait_for_selector("#device-acks [data-step=DONE]")
        still_same_page(page)
        assert agent.maintenance.is_set()
        shot(page, "command-done")
    assert any(
        e.action == "command.send" and e.target == device for e in web_server.ctx.accounts.audit_entries()
    )


def test_operator_suspends_issuance_for_a_city_with_the_kill_switch(
    page: Page,
    web_server: RunningWeb,
    private_mosquitto: MosquittoBroker,
    ingest_for: Callable[[MosquittoBroker], Ingest],
    signing_keys: SigningKeys,
    tmp_path: Path,
) -> None:
    """GIVEN a kiosk of city C WHEN an operator suspends issuance for C and confirms THEN the kiosk reports
    issuance suspended with the operator's message, and the page shows C suspended and, live, that the
    kiosk applied it (by what the kiosk reported)."""
    ingest_for(private_mosquitto)
    web_server.ctx.actions = FleetActions(
        BrokerConfig(url=private_mosquitto.url), signing_keys.dir, web_server.ctx.fleet
    )
    device = new_device_id()
    city = device.split("-")[1]
    with trusting_agent(private_mosquitto, signing_keys, tmp_path / "k", device) as (_agent, services):
        publish(private_mosquitto, Outgoing(FLEET_KEYS, signing_keys.keys_document().to_bytes()))
        name, password = make_user(web_server.ctx, Role.OPERATOR)
        sign_in(page, name, password)
        page.goto("/control")
        page.check("input[name=action][value=suspend]")
        page.select_option("#scope", "municipality")
        page.fill("#target", city)
        page.fill("input[name=message]", "点検のため停止中")
        page.click("#control-form button[type=submit]")
        assert city in page.inner_text("#question")
        assert not services.kill_switch.suspension("issuance").suspended
        page.click("#confirm")
        page.wait_for_selector(f"#suspended-municipalities:has-text('{city}')")
        shot(page, "kill-switch")
        deadline = time.monotonic() + 10
        while not services.kill_switch.suspension("issuance").suspended and time.monotonic() < deadline:
            time.sleep(0.05)
        suspension = services.kill_switch.suspension("issuance")
        assert suspension.suspended and suspension.message["ja"] == "点検のため停止中"
        assert not services.kill_switch.suspension("payment").suspended
        page.wait_for_selector("#control-confirmation[data-confirmed=yes]", timeout=15_000)
        assert "1 of 1" in page.inner_text("#control-confirmation")
