"""The web guide (行かない窓口) in Debian's Chromium: phone size, several languages, keyboard only, no script.

Each page of a run is checked automatically for text contrast ≥ 4.5:1, labelled inputs, fieldsets with
legends, the page language and touch targets ≥ 44 px (`tests/guide_a11y.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize

from tests.fixtures.web import RunningWeb
from tests.guide_a11y import findings
from tests.test_web_browser import SHOTS, WAIT_MS, browser

__all__ = ["browser"]

pytestmark = [pytest.mark.slow]

SECRET = b"guide secret of the browser test"
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
def guide_web(web_server: RunningWeb) -> RunningWeb:
    web_server.ctx.guide_secret = SECRET
    return web_server


@pytest.fixture
def phone(browser: Browser, guide_web: RunningWeb) -> Iterator[BrowserContext]:
    """A phone-sized context without JavaScript: the guide must work with plain forms and links."""
    context = browser.new_context(base_url=guide_web.url, viewport=PHONE, java_script_enabled=False)
    context.set_default_timeout(WAIT_MS)
    yield context
    context.close()


def _checked(page: Page, lang: str) -> None:
    assert page.get_attribute("html", "lang") == lang
    problems = findings(page)
    assert not problems, f"{page.url}: {problems}"


def _focus_by_tab(page: Page, selector: str, limit: int = 60) -> None:
    """Press Tab until the element matching `selector` has focus (as a keyboard user would)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
            assert outline not in ("none", ""), f"no visible focus on {selector}"
            return
    pytest.fail(f"{selector} cannot be reached with Tab")


@pytest.mark.parametrize("lang", ["ja", "ne", "ja-x-easy"])
def test_a_keyboard_only_run_reaches_the_result_with_a_visit_code(phone: BrowserContext, lang: str) -> None:
    """GIVEN a phone without JavaScript WHEN a resident uses only the keyboard (Tab, arrows, Space, Enter) to
    choose 転入 and answer every question THEN the result lists procedures by counter with a visit code QR that
    decodes to `/guide/v/<code>`; every page passes the contrast, label, language and target checks."""
    page = phone.new_page()
    page.goto(f"/guide?lang={lang}")
    _checked(page, lang)
    _focus_by_tab(page, "input[name=ev]")
    while page.evaluate("() => document.activeElement.value") != "moving_in":
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    _focus_by_tab(page, "button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    for _ in range(10):
        if "/guide/result" in page.url:
            break
        _checked(page, lang)
        _focus_by_tab(page, "input[name=ans]")
        page.keyboard.press("ArrowDown")  # yes → no: arrows move the choice inside the group
        page.keyboard.press("Space")
        _focus_by_tab(page, "button[type=submit]")
        with page.expect_navigation():
            page.keyboard.press("Enter")
    page.wait_for_selector("#counters")
    _checked(page, lang)
    page.screenshot(path=str(SHOTS / f"guide-result-{lang}.png"), full_page=True)
    img = page.locator("#visit-code img")
    shot = SHOTS / f"guide-qr-{lang}.png"
    img.screenshot(path=str(shot))
    (decoded,) = [r.text for r in zxingcpp.read_barcodes(Image.open(shot))]
    assert "/guide/v/" in decoded and decoded == img.get_attribute("data-text")


def test_the_visit_code_reopens_the_result_and_a_forged_one_is_refused(phone: BrowserContext) -> None:
    """GIVEN a visit code made on the web WHEN it is opened in English THEN the same procedures are listed; WHEN a
    forged code is opened THEN the refusal page says so, in the page's language, and passes the checks."""
    page = phone.new_page()
    page.goto("/guide/result?ev=birth&a=&lang=en")
    listed = page.locator("[data-procedure]").evaluate_all("els => els.map(e => e.dataset.procedure)")
    code_url = page.locator("#visit-code img").get_attribute("data-text")
    assert code_url
    page.goto(urlsplit(code_url).path + "?lang=en")
    assert page.locator("[data-procedure]").evaluate_all("els => els.map(e => e.dataset.procedure)") == listed
    page.goto("/guide/v/1.abc.birth..AAAAAAAAAAAAAAAA?lang=ko")
    assert "방문 코드" in page.inner_text("h1")
    _checked(page, "ko")
