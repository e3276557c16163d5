"""書かない窓口 in real headless Chromium: the counter page offers the form data once the visit is called, shows
it, and after the visit is done the data is gone.

Real parts: the central web (uvicorn) on the test's store, the queue core and the prefill store on the same
database, Debian's Chromium under Playwright. The kiosk's attach is the RPC handler called directly (the
MQTT path is tested in test_prefill_kiosk.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from central_broker.accounts import Role
from central_broker.queue import QueueService
from madoguchi.clock import SteppableClock
from tests.fixtures.web import RunningWeb, make_user
from tests.prefill_helpers import DEVICE, FIELDS, attach, open_prefill
from tests.test_web_browser import browser, page, shot, sign_in
from tests.test_web_queue_browser import _choose_counter

__all__ = ["browser", "page"]  # fixtures used here, defined with the other browser tests

pytestmark = [pytest.mark.slow]

BRANCH = "本庁舎"


def test_counter_staff_see_the_form_data_while_called_and_never_after_done(
    page: Page, web_server: RunningWeb, web_queue: QueueService, queue_clock: SteppableClock, tmp_path: Path
) -> None:
    """GIVEN a kiosk attached the basic four to its visit WHEN counter staff call the visit THEN the panel offers
    the form data live and its page shows name, address, birth date and sex, and the audit log records the
    access; WHEN the visit is done THEN the link is gone and the page refuses, showing nothing."""
    store = open_prefill(web_queue, tmp_path, queue_clock)
    web_server.ctx.prefill = store
    ticket = web_queue.take(BRANCH, "moving", device_id=DEVICE)
    attach(web_queue, store, ticket)

    name, password = make_user(web_server.ctx, Role.STAFF)
    web_server.ctx.accounts.change_branches(name, add=(BRANCH,), actor="test")
    sign_in(page, name, password)
    _choose_counter(page, "shimin_1")
    assert page.query_selector("#prefill-link") is None
    page.keyboard.press("n")
    page.wait_for_selector(f"#held-number:text('{ticket.visit.number}')")
    page.wait_for_selector("#prefill-link a")
    page.click("#prefill-link a")
    page.wait_for_selector("#prefill-fields")
    assert page.inner_text("#prefill-name") == FIELDS.name
    assert page.inner_text("#prefill-address") == FIELDS.address
    assert page.inner_text("#prefill-birth") == "1980-04-01"
    assert page.inner_text("#prefill-sex") == "Female"
    assert "Birth notification form" in page.inner_text("#prefill-forms")
    shot(page, "prefill-counter-view")
    (entry,) = [e for e in web_server.ctx.accounts.audit_entries() if e.action == "prefill.view"]
    assert entry.actor == name and ticket.visit.number in entry.target
    assert FIELDS.name not in f"{entry.target} {entry.detail}"

    page.click("#back-to-counter")
    page.wait_for_selector("#counter-live")
    page.keyboard.press("d")
    page.wait_for_selector("#nobody-called")
    assert page.query_selector("#prefill-link") is None
    response = page.goto(f"/counter/prefill?visit_id={ticket.visit.id}")
    assert response is not None and response.status == 409
    assert FIELDS.name not in page.content()
    assert store.read(ticket.visit.id) is None
