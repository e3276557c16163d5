"""待たない窓口 in real headless Chromium: a resident's status page, the counter page and the hall's display board
follow one visit across two counters, live (server-sent events), without reloading.

Real parts: the central web (uvicorn) on the test's store, the queue core on the same database (clock
frozen at Monday 09:00 JST), Debian's Chromium under Playwright. Tickets are taken through the core API
(the kiosk's `queue.take` RPC is tested elsewhere).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from central_broker.accounts import Role
from central_broker.queue import OfflineTicket, QueueService
from central_broker.web.queue_common import board_key
from tests.fixtures.web import BOARD_SECRET, RunningWeb, make_user
from tests.test_web_browser import WAIT_MS, browser, page, shot, sign_in, still_same_page

__all__ = ["browser", "page"]  # fixtures used here, defined with the other browser tests

pytestmark = [pytest.mark.slow]

BRANCH = "本庁舎"

# WCAG contrast ratio of an element's text against the first opaque background behind it.
_CONTRAST = """(el) => {
  function channels(c) { return c.match(/[\\d.]+/g).map(Number); }
  function lum(c) {
    const [r, g, b] = channels(c).slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  }
  function background(node) {
    for (; node; node = node.parentElement) {
      const c = getComputedStyle(node).backgroundColor, m = channels(c);
      if (m.length < 4 || m[3] > 0) { return c; }
    }
    return "rgb(255, 255, 255)";
  }
  const a = lum(getComputedStyle(el).color), b = lum(background(el));
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def _context(browser: Browser, web: RunningWeb, width: int, height: int) -> BrowserContext:
    context = browser.new_context(
        base_url=web.url, viewport={"width": width, "height": height}, locale="en-US"
    )
    context.set_default_timeout(WAIT_MS)
    return context


@pytest.fixture
def phone(browser: Browser, web_server: RunningWeb) -> Iterator[Page]:
    """A resident's phone (390×844), no sign-in."""
    context = _context(browser, web_server, 390, 844)
    yield context.new_page()
    context.close()


@pytest.fixture
def hall(browser: Browser, web_server: RunningWeb) -> Iterator[Page]:
    """The waiting-room display (1920×1080), no sign-in."""
    context = _context(browser, web_server, 1920, 1080)
    yield context.new_page()
    context.close()


def _mark(tab: Page) -> None:
    tab.wait_for_selector("body[data-live-connected=yes]")
    tab.evaluate("window.__noReload = 'yes'")


def _readable(tab: Page) -> None:
    """Every text of the status page has a contrast of at least 4.5:1 (WCAG AA) and the page says its language."""
    assert tab.get_attribute("html", "lang") == "en"
    for element in tab.query_selector_all("#status-panel p, #status-panel li, h1, footer a, footer strong"):
        ratio = element.evaluate(_CONTRAST)
        assert ratio >= 4.5, (element.inner_text(), ratio)


def _choose_counter(tab: Page, counter: str) -> None:
    tab.goto("/counter?choose=1")
    tab.fill("#branch", BRANCH)
    tab.select_option("#counter", counter)
    tab.click("#choose-counter button[type=submit]")
    tab.wait_for_selector("#counter-live")
    _mark(tab)


def test_a_visit_followed_live_by_resident_counter_staff_and_the_board(
    page: Page,
    phone: Page,
    hall: Page,
    browser: Browser,
    web_server: RunningWeb,
    web_queue: QueueService,
) -> None:
    """GIVEN two tickets for counter 1, the second also for counter 6 WHEN the resident opens the status page THEN
    it shows waiting, one person ahead and a wait range. WHEN staff (signed in, counter chosen once) call and
    finish the first by keyboard THEN the resident's page says nobody is ahead, without a reload. WHEN staff call
    the resident THEN the board shows the number with its counter, announces it in Japanese and English, and the
    status page says "called at counter 1" — no reload anywhere. WHEN staff start and finish there THEN the page
    sends the resident to counter 6, whose staff see the number arrive in their line live; they call, start and
    finish, and the page says all is done."""
    web_queue.take(BRANCH, "moving")
    ours = web_queue.take(BRANCH, "moving", then=("hoken",))
    number = ours.visit.number

    phone.goto(f"/q/{ours.token}?lang=en")
    phone.wait_for_selector("#status-panel[data-state=waiting]")
    assert phone.inner_text("#visit-number") == number
    assert phone.inner_text("#people-ahead") == "People ahead of you: 1"
    assert phone.inner_text("#wait-range") == "Estimated wait: about 5–15 min"
    assert "Counter 6" in phone.inner_text("#counters-to-come")
    _mark(phone)
    _readable(phone)
    shot(phone, "queue-status-waiting")

    hall.goto(f"/board/{quote(BRANCH)}?key={board_key(BOARD_SECRET, BRANCH)}")
    _mark(hall)

    name, password = make_user(web_server.ctx, Role.STAFF)
    web_server.ctx.accounts.change_branches(name, add=(BRANCH,), actor="test")
    sign_in(page, name, password)
    page.click("#nav-counter")
    page.wait_for_selector("#choose-counter")
    _choose_counter(page, "shimin_1")
    assert "N" in page.inner_text("#shortcuts") and "Call next" in page.inner_text("#shortcuts")
    page.keyboard.press("n")
    page.wait_for_selector("#held-number:text('A-1')")
    _mark(page)
    page.keyboard.press("d")
    page.wait_for_selector("#nobody-called")
    phone.wait_for_selector("#people-ahead:text('People ahead of you: 0')")
    still_same_page(phone)

    _mark(page)
    page.keyboard.press("n")
    page.wait_for_selector(f"#held-number:text('{number}')")
    hall.wait_for_selector(f"#now-number:text('{number}')")
    assert hall.inner_text("#now-counter").split() == ["1番窓口", "Counter", "1"]
    hall.wait_for_function("window.__boardAnnounced.length >= 1")
    announced = hall.evaluate("window.__boardAnnounced")
    assert any("A 2" in line and "1番窓口" in line and "counter 1" in line for line in announced), announced
    still_same_page(hall)
    shot(hall, "queue-board-called")

    phone.wait_for_selector("#status-panel[data-state=called]")
    assert "You are being called at Counter 1" in phone.inner_text("#status-message")
    still_same_page(phone)
    _readable(phone)
    shot(phone, "queue-status-called")

    colleague_context = _context(browser, web_server, 1280, 900)
    colleague = colleague_context.new_page()
    other, other_password = make_user(web_server.ctx, Role.STAFF)
    web_server.ctx.accounts.change_branches(other, add=(BRANCH,), actor="test")
    sign_in(colleague, other, other_password)
    _choose_counter(colleague, "hoken")
    colleague.wait_for_selector("#nobody-waiting")

    page.click("#btn-start")
    phone.wait_for_selector("#status-panel[data-state=serving]")
    page.wait_for_selector("#btn-done:not([disabled])")
    page.click("#btn-done")
    phone.wait_for_selector("#status-panel[data-state=next]")
    assert "Next: Counter 6" in phone.inner_text("#status-message")
    hall.wait_for_selector("#board-empty:not([hidden])", state="attached")

    colleague.wait_for_selector(f"#next-number:text('{number}')")
    still_same_page(colleague)
    colleague.click("#btn-call")
    colleague.wait_for_selector(f"#held-number:text('{number}')")
    hall.wait_for_selector(f"#now-number:text('{number}')")
    assert "6番窓口" in hall.inner_text("#now-counter")
    phone.wait_for_selector("#status-panel[data-state=called]")
    assert "Counter 6" in phone.inner_text("#status-message")
    colleague.click("#btn-start")
    colleague.wait_for_selector("#btn-done:not([disabled])")
    colleague.click("#btn-done")
    phone.wait_for_selector("#status-panel[data-state=done]")
    assert "All your procedures are done" in phone.inner_text("#status-message")
    still_same_page(phone)
    still_same_page(hall)
    _readable(phone)
    shot(phone, "queue-status-done")
    shot(colleague, "queue-counter")
    colleague_context.close()
    assert web_queue.visit(ours.visit.id).state.value == "finished"


def test_staff_of_another_branch_see_why_and_the_refused_offline_tickets_of_their_own(
    page: Page, web_server: RunningWeb, web_queue: QueueService
) -> None:
    """GIVEN staff of 北支所 only, and a 本庁舎 kiosk's offline ticket A-2001 the centre refused WHEN they pick
    本庁舎's counter 1 in Chromium THEN a 403 page says they work at 北支所 and shows the command that adds
    本庁舎. WHEN an operator adds 本庁舎 and they pick it again THEN the counter opens and lists A-2001 with its
    kiosk, issue time and reason."""
    web_queue.offline_block(BRANCH, "jp-131016-k07")
    issued = web_queue.now_ms() - 15 * 60_000
    web_queue.merge_offline(BRANCH, "jp-131016-k07", [OfflineTicket("A-2001", "moving", issued)])
    name, password = make_user(web_server.ctx, Role.STAFF)
    web_server.ctx.accounts.change_branches(name, add=("北支所",), actor="test")
    sign_in(page, name, password)

    page.goto("/counter?choose=1")
    page.fill("#branch", BRANCH)
    page.select_option("#counter", "shimin_1")
    with page.expect_response("**/counter/choose") as answer:
        page.click("#choose-counter button[type=submit]")
    assert answer.value.status == 403
    assert "works at 北支所; this counter belongs to 本庁舎" in page.inner_text("#branch-denied")
    assert page.inner_text("#branch-command") == f"kiosk-central users branches {name} --add '本庁舎'"

    web_server.ctx.accounts.change_branches(name, add=(BRANCH,), actor="test")
    _choose_counter(page, "shimin_1")
    row = page.inner_text("#refused-offline tr.refused-ticket[data-number='A-2001']")
    assert "jp-131016-k07" in row and "08:45" in row and "outside this kiosk's block" in row
