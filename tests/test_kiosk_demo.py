"""The whole system as `madoguchi-demo` (`make demo`) runs it: Mosquitto, the central (fleet, issuance, orders, visit queue), a
simulated kiosk whose autopilot residents play the real screens, headless, and simulated counter staff."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from central_broker.queue import EventKind, QueueEvent
from central_broker.queue_link.simulated_staff import STAFF_PREFIX
from central_broker.store import open_store
from central_broker.store.telemetry_schema import kiosk_stat
from madoguchi_demo.stack import DEMO_DEVICE_ID, DemoStack
from madoguchi_demo.summary import demo_summary

pytestmark = [pytest.mark.slow]


def test_autopilot_residents_take_a_certificate_and_pay_an_order_with_a_screenshot_of_every_screen(
    tmp_path: Path,
) -> None:
    """GIVEN the demo stack with one autopilot resident pair WHEN it has played THEN the certificate was issued,
    printed and its QR verifies, both payments were approved, both sessions reached the central as statistics,
    every screen passed was saved as a screenshot; AND the resident's procedure guide run (one わからない, a
    ticket taken from it, a rating) reached the central as a `guide_session` the guide KPIs count."""
    shots = tmp_path / "shots"
    stack = DemoStack(tmp_path / "demo", kiosk_mode="autopilot", residents=1, screenshots=shots)
    try:
        stack.start(online_timeout=20)
        kiosk = next(c for c in stack.children if c.name == "kiosk")
        deadline = time.monotonic() + 120
        while kiosk.process.poll() is None:
            assert time.monotonic() < deadline, kiosk.log_tail()
            time.sleep(0.5)
        assert kiosk.process.returncode == 0, kiosk.log_tail()
        summary = {}
        for _ in range(40):  # the last statistics may still be on their way to the ingest
            summary = demo_summary(stack.store_url, stack.central.issuance_db, stack.kiosk_dir)
            if summary["statistics_ingested"] >= 3:
                break
            time.sleep(0.25)
        guide_runs = _guide_sessions(stack.store_url)
    finally:
        stack.stop()
    assert summary["sessions"] == {
        "certificate_session:completed": 1,
        "register_session:completed": 1,
        "guide_session:completed": 1,
    }
    (guide,) = guide_runs
    assert guide["channel"] == "kiosk" and guide["events"] == ["moving_in"]
    assert len(guide["unknown_questions"]) == 1 and "ticket" in guide["outputs"] and guide["rating"] == 5
    assert summary["certificates"] | {"by_state": None} == {
        "issued": 1,
        "by_state": None,
        "printed_files": 1,
        "verified": 1,
    }
    assert summary["payments"]["approved"] == 2
    certificate_shots = sorted((shots / "001-certificate").glob("*.png"))
    register_shots = sorted(shots.glob("001-register*/*.png"))
    assert len(certificate_shots) >= 12 and len(register_shots) >= 7
    assert all(p.stat().st_size > 10_000 for p in certificate_shots + register_shots)
    names = {p.stem.split("-", 1)[1].rstrip("0123456789") for p in certificate_shots}
    assert {"pin_entry", "name_confirm", "choose_type", "fee_summary", "take_certificate", "rating"} <= names


def _guide_sessions(store_url: str) -> list[dict[str, Any]]:
    """The fields of the `guide_session` statistics the central received."""
    store = open_store(store_url, create=False)
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(select(kiosk_stat.c.fields).where(kiosk_stat.c.kind == "guide_session"))
            return [dict(row.fields) for row in rows]
    finally:
        store.close()


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode("utf-8")


def test_simulated_staff_serve_kiosk_numbers_so_the_board_and_status_page_move(tmp_path: Path) -> None:
    """GIVEN the demo stack with autopilot residents WHEN it runs THEN the kiosk took numbers through queue.take,
    the simulated staff called and finished visits, the printed board URL answers with a called number on it,
    and the printed status URL of the first ticket answers."""
    stack = DemoStack(tmp_path / "demo", kiosk_mode="autopilot", residents=9)
    try:
        stack.start(online_timeout=20)
        assert stack.queue.board_url and stack.queue.status_url and stack.queue.queue and stack.queue.branch
        queue, branch = stack.queue.queue, stack.queue.branch
        events: list[QueueEvent] = []
        on_board = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            events = queue.events(branch)
            if on_board is None:
                status, html = _get(stack.queue.board_url)
                assert status == 200
                shown = re.search(r'id="now-number">([A-Z]-[0-9]+)<', html)
                on_board = shown.group(1) if shown else None
            done = [e for e in events if e.kind is EventKind.DONE and e.actor.startswith(STAFF_PREFIX)]
            from_kiosk = [e for e in events if e.kind is EventKind.ISSUED and e.actor == DEMO_DEVICE_ID]
            if done and from_kiosk and on_board:
                break
            stack.check_children()
            time.sleep(0.3)
        status, page = _get(stack.queue.status_url)
    finally:
        stack.stop()
    kinds = {e.kind for e in events if e.actor.startswith(STAFF_PREFIX)}
    assert {EventKind.CALLED, EventKind.STARTED, EventKind.DONE} <= kinds, events
    assert any(e.kind is EventKind.ISSUED and e.actor == DEMO_DEVICE_ID for e in events), events
    assert on_board in {e.number for e in events if e.kind is EventKind.CALLED}
    assert status == 200 and "<html" in page.lower()
    assert any(p.suffix == ".png" for p in (stack.kiosk_dir / "printed" / "receipts").iterdir())


def test_demo_headless_for_seconds_prints_a_json_summary(tmp_path: Path) -> None:
    """GIVEN `madoguchi-demo --headless --for 20 --json` WHEN it ends THEN its last line says the kiosk was online,
    residents completed sessions, certificates were issued and verified, payments approved, statistics ingested,
    and the kiosk was shut down cleanly."""
    demo = str(Path(sys.executable).with_name("madoguchi-demo"))
    done = subprocess.run(
        [demo, "--headless", "--for", "20", "--json", "--data-dir", str(tmp_path / "demo")],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    ready, final = (json.loads(line) for line in done.stdout.splitlines()[-2:])
    assert ready["event"] == "ready" and ready["kiosk_mode"] == "autopilot"
    assert "/board/" in ready["board_url"] and "?key=" in ready["board_url"] and "/q/" in ready["status_url"]
    assert final["event"] == "stopped" and final["kiosks_online"] == 1
    assert final["sessions_completed"] >= 2 and final["statistics_ingested"] >= final["sessions_completed"]
    certs = final["certificates"]
    assert certs["issued"] >= 1 and certs["verified"] == certs["printed_files"] >= 1
    paying = ("certificate_session:completed", "register_session:completed")  # the guide takes no payment
    assert final["payments"]["approved"] >= sum(final["sessions"].get(key, 0) for key in paying)
    assert (final["kiosk_status"], final["offline_reason"]) == ("offline", "shutdown")
    assert final["queue"]["issued"] >= 2 and final["queue"]["called"] >= 1
