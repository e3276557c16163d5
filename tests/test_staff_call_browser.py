"""職員を呼ぶ end to end: a kiosk calls staff, counter staff see it live in Chromium and acknowledge it,
and the acknowledgement reaches the kiosk ("staff are coming").

Real parts: Mosquitto, the ingest, the central web (uvicorn) in headless Chromium, the kiosk's fleet agent
(trusting the centre's signing keys), its `DeviceRunner` and `KioskController` as the screens drive them
(without Kivy).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from central_broker.accounts import Role
from central_broker.broker import MosquittoBroker
from central_broker.catalog_push import SigningKeys
from central_broker.catalog_push.publisher import Outgoing
from central_broker.ingest import Ingest
from central_broker.store import FleetStore
from central_broker.web.fleet_actions import FleetActions
from kiosk_app.flows import events as ev
from kiosk_app.runner import DeviceRunner, FolderA4, RunnerParts
from kiosk_app.runner.card_slot import EmulatedCardSlot
from kiosk_app.ui.controller import KioskController, Service
from madoguchi.config.broker import BrokerConfig
from madoguchi.contracts.catalog import load_sample_catalog
from madoguchi.contracts.topics import FLEET_KEYS
from tests.fixtures.fleet import new_device_id
from tests.fixtures.fleet_signing import publish, trusting_agent
from tests.fixtures.web import RunningWeb, make_user
from tests.test_web_browser import browser, mark_page, page, shot, sign_in, still_same_page

__all__ = ["browser", "page"]  # fixtures used here, defined with the other browser tests

pytestmark = [pytest.mark.slow, pytest.mark.mosquitto]


def _until(check: Callable[[], bool], pump: Callable[[], None], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pump()
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def kiosk(
    mosquitto: MosquittoBroker, signing_keys: SigningKeys, tmp_path: Path
) -> Iterator[tuple[str, KioskController]]:
    """A kiosk on the broker: agent + runner + controller, as `kiosk run` wires them (no window)."""
    device = new_device_id()
    with trusting_agent(mosquitto, signing_keys, tmp_path / "k", device) as (agent, _services):
        publish(mosquitto, Outgoing(FLEET_KEYS, signing_keys.keys_document().to_bytes()))
        catalog = load_sample_catalog()
        parts = RunnerParts(
            catalog=catalog,
            card=EmulatedCardSlot(),
            a4=FolderA4(tmp_path / "a4"),
            receipt=None,
            terminal=None,
            issuance=None,
            orders=None,
            telemetry=agent.telemetry,
            staff_calls=agent.staff_calls,
        )
        runner = DeviceRunner(parts)
        controller = KioskController.for_catalog(catalog, runner.execute, time.monotonic)
        runner.attach(controller.post)
        yield device, controller


def test_staff_see_a_call_live_acknowledge_it_and_the_kiosk_says_staff_are_coming(
    page: Page,
    web_server: RunningWeb,
    ingest: Ingest,
    mosquitto: MosquittoBroker,
    central_store: FleetStore,
    signing_keys: SigningKeys,
    kiosk: tuple[str, KioskController],
) -> None:
    """GIVEN counter staff on the Staff calls page and a resident on the place-card step WHEN the resident
    presses 職員を呼ぶ THEN the call appears on the page without a reload, with the kiosk and the step; the
    kiosk still shows the place-card step. WHEN staff acknowledge it THEN the page shows who did, and the
    kiosk's banner turns to "staff are coming". WHEN staff mark it resolved THEN it leaves the live list
    (kept under recent calls and in the audit log) and the kiosk's banner goes. A second call the resident
    withdraws at the kiosk disappears from the page live too."""
    device, controller = kiosk
    web_server.ctx.actions = FleetActions(BrokerConfig(url=mosquitto.url), signing_keys.dir, central_store)
    name, password = make_user(web_server.ctx, Role.STAFF)
    sign_in(page, name, password)
    page.click("#nav-staff-calls")
    page.wait_for_selector("#no-staff-calls")
    mark_page(page)

    controller.start(Service.CERTIFICATE)
    controller.send(ev.ChooseLanguage("ja"))
    assert controller.step_name() == "place_card"
    controller.call_staff()
    call = controller.staff_call
    assert call is not None
    row = f'#staff-calls tr[data-call="{device}/{call.call_id}"]'
    page.wait_for_selector(row)
    still_same_page(page)
    assert page.inner_text(f"{row} td.step") == "place_card" and device in page.inner_text(row)
    shot(page, "staff-call-live")
    assert controller.step_name() == "place_card" and controller.screen() == "message"

    page.click(f"{row} button.acknowledge")
    page.wait_for_selector(f'{row}[data-state="acknowledged"]')
    assert page.inner_text(f"{row} td.who") == name
    assert "staff-call-unsent" not in page.content()
    _until(
        lambda: controller.staff_call is not None and controller.staff_call.status.value == "acknowledged",
        controller.drain,
        "the acknowledgement at the kiosk",
    )
    assert controller.step_name() == "place_card"
    assert controller.translator().tr("staff.coming").startswith("職員がまいります")
    shot(page, "staff-call-acknowledged")

    page.click(f"{row} button.resolve")
    page.wait_for_selector("#no-staff-calls")
    page.wait_for_selector(
        f'#staff-call-history tr[data-call="{device}/{call.call_id}"][data-state="resolved"]'
    )
    _until(lambda: controller.staff_call is None, controller.drain, "the banner to go at the kiosk")
    actions = {(e.action, e.actor) for e in web_server.ctx.accounts.audit_entries() if e.target == device}
    assert actions == {("staff_call.acknowledge", name), ("staff_call.resolve", name)}

    mark_page(page)
    controller.call_staff()
    second = controller.staff_call
    assert second is not None and second.call_id != call.call_id
    row = f'#staff-calls tr[data-call="{device}/{second.call_id}"]'
    page.wait_for_selector(row)
    controller.cancel_staff_call()
    page.wait_for_selector(
        f'#staff-call-history tr[data-call="{device}/{second.call_id}"][data-state="cancelled"]'
    )
    assert page.query_selector(row) is None
    still_same_page(page)
    shot(page, "staff-call-withdrawn")
