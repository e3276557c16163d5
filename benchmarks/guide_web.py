"""Web guide page weight in Chromium: bytes transferred per page, assets included (target ≤ 150 KB).

Serves the central web (uvicorn, temporary SQLite store, sample catalog, a guide secret so the result
carries its visit code QR) and loads each page of a run in Debian's headless Chromium at phone size with a
cold cache, summing `encodedDataLength` of every response the page loaded (document, CSS, images) as the
DevTools protocol reports it. Pages: start, first question, a result with every procedure of 転入 (answers
わからない), and the same result reopened from its visit code. Run for every language with `--all-languages`.

    .venv/bin/python -m benchmarks.guide_web [--all-languages]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from central_broker.store import open_store, sqlite_url
from central_broker.web import WebServer, create_app, open_web_context
from madoguchi.config.central import local_central_config
from madoguchi.contracts.languages import LANGUAGES

TARGET_BYTES = 150 * 1024
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def transferred(page: Page, url: str) -> int:
    """Bytes the page load transferred (all responses), with the browser cache disabled."""
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    session.send("Network.setCacheDisabled", {"cacheDisabled": True})
    sizes: dict[str, float] = {}
    session.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    page.goto(url, wait_until="load")
    page.wait_for_timeout(200)  # let the last loadingFinished events arrive
    session.detach()
    return int(sum(sizes.values()))


def main() -> None:
    """Serve, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all-languages", action="store_true", help="every language, not ja/en/ne")
    args = parser.parse_args()
    languages = LANGUAGES if args.all_languages else ("ja", "en", "ne")
    with tempfile.TemporaryDirectory() as folder:
        config = local_central_config(Path(folder) / "central", "mqtt://127.0.0.1:1883")
        ctx = open_web_context(config, open_store(sqlite_url(Path(folder) / "central.db")))
        ctx.guide_secret = b"benchmark guide secret, 32 bytes"
        server = WebServer(create_app(ctx), "127.0.0.1", WebServer.free_port())
        server.start()
        worst = 0
        try:
            with sync_playwright() as play:
                browser = play.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                page = browser.new_page(viewport={"width": 390, "height": 844})
                questions = ",".join(
                    f"{q.id}:u" for q in ctx.catalog.procedures.questions_for(["moving_in"], {})
                )
                print(f"{'page':<34} {'lang':<10} {'bytes':>8}  target ≤ {TARGET_BYTES} B (150 KB)")
                for lang in languages:
                    result = f"/guide/result?ev=moving_in&a={questions}&lang={lang}"
                    page.goto(server.url + result)
                    code_url = page.locator("#visit-code img").get_attribute("data-text") or ""
                    visit = "/guide/v/" + code_url.rsplit("/guide/v/", 1)[-1] + f"?lang={lang}"
                    for name, path in (
                        ("start", f"/guide?lang={lang}"),
                        ("first question", f"/guide/q?ev=moving_in&lang={lang}"),
                        ("result (転入, all わからない)", result),
                        ("result from the visit code", visit),
                    ):
                        size = transferred(page, server.url + path)
                        worst = max(worst, size)
                        print(f"{name:<34} {lang:<10} {size:>8}")
                browser.close()
        finally:
            server.stop()
    verdict = "met" if worst <= TARGET_BYTES else "MISSED"
    print(f"heaviest guide page: {worst} B ({worst / 1024:.1f} KiB) — target {verdict}")


if __name__ == "__main__":
    main()
