"""The certificate check page in a real browser (Debian's headless Chromium under Playwright): what a
reader holding a forged paper sees."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from central_broker.issuance.online import OnlineCheck
from tests.fixtures.issuance import IssuanceEnv
from tests.fixtures.web import RunningWeb
from tests.test_issuance_online_check import issue_printed
from tests.test_web_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium (the Playwright browser download is not used)."""
    if shutil.which(CHROMIUM) is None:
        pytest.skip("chromium is not installed (scripts/bootstrap.sh installs it)")
    with sync_playwright() as play:
        launched = play.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def test_a_reader_typing_the_forged_name_is_told_it_does_not_match(
    browser: Browser, web_server: RunningWeb, issuance_env: IssuanceEnv, tmp_path: Path
) -> None:
    """GIVEN a printed certificate and a forged paper with its serial and code but another name WHEN a reader
    (not signed in, Japanese browser) types the serial, code and the forged name and birth date THEN the page
    says the certificate is genuine but the name and birth date do not match, and shows no personal data."""
    web_server.ctx.online_check = OnlineCheck(
        issuance_env.store, issuance_env.service.check_keys, issuance_env.clock
    )
    printed = issue_printed(issuance_env, tmp_path)
    context = browser.new_context(base_url=web_server.url, locale="ja-JP")
    try:
        tab = context.new_page()
        tab.goto("/verify")
        tab.fill("#serial", printed.serial)
        tab.fill("#code", printed.code)
        tab.fill("#name", "偽造 太郎")
        tab.fill("#birth_date", "1970-01-02")
        tab.click("#verify-form button[type=submit]")
        tab.wait_for_selector("#verify-result")
        result = tab.inner_text("#verify-result")
        assert "真正" in result and "一致しません" in tab.inner_text("#holder-match")
        assert printed.resident.name not in tab.content()
        assert tab.input_value("#code") == ""  # the code is not put back into the page
    finally:
        context.close()
