"""Central web dashboard with a large fleet: server time of the fleet page and the other operator pages.

Builds a central store (SQLite, WAL + synchronous=FULL, in a temporary folder) with N kiosks in
several municipalities, each with a latest health message (some printers out of paper), open
alerts, and a month of anonymous session statistics; then requests each page in-process through
the ASGI app (FastAPI TestClient: routing, session lookup, database, template rendering; no
network) and prints the p50/p95/max server time. Target: fleet page p95 <= 300 ms at 2,000 kiosks. The fleet pages reuse a cached
view while nothing changed, so they are measured with a kiosk changing before every request
(every request rebuilds the view) as well as unchanged.

    .venv/bin/python -m benchmarks.dashboard [--devices 2000] [--days 30] [--sessions-per-day 10]
    .venv/bin/python -m benchmarks.dashboard --prefill 12000000     # a month at 2,000 kiosks
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert, update
from sqlalchemy.engine import make_url

from benchmarks.stats_prefill import prefill
from central_broker.accounts import Role
from central_broker.store import open_store
from central_broker.store.schema import kiosk_health, kiosk_state
from central_broker.store.telemetry_schema import kiosk_alert, kiosk_stat
from central_broker.web import create_app, open_web_context
from central_broker.web.kpi_warm import KpiWarmer
from central_broker.web.server import freeze_startup_objects
from madoguchi.config.central import local_central_config

PASSWORD = "benchmark passphrase 1"
CITIES = ["999999", "131016", "102041", "141003", "271004", "011002", "401005", "231002"]
TYPES = ["juminhyo", "inkan", "kazei", "koseki_zenbu"]
METHODS = ["cash", "cash", "cash", "credit", "emoney", "qr"]


def _health(now_ms: int, paper: str) -> dict[str, object]:
    ok = {"status": "ok"}
    return {
        "ts": now_ms, "epoch": 1, "app_ver": "0.1.0", "catalog_ver": 1, "uptime": 3600.0, "load": 0.3,
        "mem": 35.0, "disk": 20.0, "outbox_depth": 0, "clock_synced": True,
        "printer": {"status": "ok", "paper": paper, "cover": "closed"},
        "card_reader": ok, "payment": ok, "scanner": ok, "touch": ok, "net": ok,
    }  # fmt: skip


def build(url: str, devices: int, days: int, per_day: int, prefill_rows: int = 0) -> tuple[str, int]:
    """Fill a store; returns its URL and the number of statistics rows.

    With `prefill_rows` the statistics are bulk-written by `stats_prefill` (millions of rows in
    minutes) instead of `per_day` sessions per kiosk.
    """
    store = open_store(url)
    rng = random.Random(7)
    now = int(time.time() * 1000)
    ids = [f"jp-{CITIES[i % len(CITIES)]}-k{i:04d}" for i in range(devices)]
    states, healths, alerts = [], [], []
    for i, dev in enumerate(ids):
        status = "offline" if i % 97 == 0 else "online"
        seen = now - (400_000 if i % 89 == 0 else rng.randint(0, 59_000))
        states.append({
            "device_id": dev, "status": status, "epoch": 1, "offline_epoch": 1 if status == "offline" else None,
            "offline_reason": "lwt" if status == "offline" else None, "boot_id": f"b{i}", "app_ver": "0.1.0",
            "catalog_ver": 1, "last_state_ts": now - 86_400_000, "last_seen": seen, "since": now - 86_400_000,
            "first_seen": now - 30 * 86_400_000,
        })  # fmt: skip
        paper = "out" if i % 53 == 0 else ("near-end" if i % 31 == 0 else "ok")
        healths.append(
            {"device_id": dev, "epoch": 1, "ts": seen, "received_at": seen, "payload": _health(seen, paper)}
        )
        if paper == "out":
            alerts.append({
                "device_id": dev, "alert_id": "printer-paper", "code": "printer.paper_out", "severity": "error",
                "detail": "receipt printer out of paper", "raised_at": now - rng.randint(60_000, 7_200_000),
                "updated_ts": now, "cleared_at": None, "received_at": now,
            })  # fmt: skip
    with store.engine.begin() as conn:
        conn.execute(insert(kiosk_state), states)
        conn.execute(insert(kiosk_health), healths)
        conn.execute(insert(kiosk_alert), alerts)
    if prefill_rows:
        store.close()
        return url, prefill(url, ids, prefill_rows, days, now).rows
    rows = 0
    start = now - days * 86_400_000
    for dev in ids:
        batch = []
        seq = 0
        for day in range(days):
            for _ in range(per_day):
                seq += 1
                ts = start + day * 86_400_000 + rng.randint(0, 86_399_999)
                if rng.random() < 0.6:
                    fields = {"outcome": "completed", "type": rng.choice(TYPES), "copies": rng.randint(1, 3),
                              "method": rng.choice(METHODS), "rating": rng.randint(3, 5), "total_seconds": 95.0,
                              "step_seconds": {"pin": 20.0, "type": 15.0, "pay": 30.0, "print": 30.0}}  # fmt: skip
                    kind = "certificate_session"
                else:
                    fields = {"outcome": "completed", "method": rng.choice(METHODS), "fee_yen": 750,
                              "total_seconds": 40.0, "step_seconds": {"scan": 10.0, "pay": 30.0}}  # fmt: skip
                    kind = "register_session"
                batch.append(
                    {
                        "device_id": dev,
                        "seq": seq,
                        "ts": ts,
                        "kind": kind,
                        "fields": fields,
                        "received_at": ts,
                    }
                )
        with store.engine.begin() as conn:
            conn.execute(insert(kiosk_stat), batch)
        rows += len(batch)
    store.close()
    return url, rows


def _reset_peak_rss() -> float:
    """Reset this process's peak RSS (Linux `clear_refs` 5); the current RSS in MiB."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mib("VmRSS")


def _peak_rss_mib() -> float:
    return _status_mib("VmHWM")


def _status_mib(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def timed(client: TestClient, path: str, runs: int, before: Callable[[], None] | None = None) -> list[float]:
    """Milliseconds per request (after one warm-up); `before` runs untimed before each request."""
    first = client.get(path)
    assert first.status_code == 200 and first.url.path == path.split("?")[0], (
        f"{path} was not served signed in"
    )
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        begin = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - begin) * 1000)
        assert response.status_code == 200, path
    return times


def main() -> None:
    """Build, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--sessions-per-day", type=int, default=10)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--prefill",
        type=int,
        default=0,
        help="bulk-write this many statistics instead (12000000 = a month at 2,000 kiosks)",
    )
    parser.add_argument("--store", help="an EMPTY store URL to use (default: SQLite in a temporary folder), "
                                        "e.g. postgresql://u@h:p/db")  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dashboard-bench-") as tmp:
        folder = Path(tmp)
        config = local_central_config(folder, "mqtt://127.0.0.1:1883")
        if args.store:
            config = config.model_copy(
                update={"central": config.central.model_copy(update={"store_url": args.store})}
            )
        began = time.perf_counter()
        _url, rows = build(
            config.central.store_url, args.devices, args.days, args.sessions_per_day, args.prefill
        )
        print(f"store: {args.devices} kiosks, {rows:,} statistics rows over {args.days} days in "
              f"{make_url(config.central.store_url).get_backend_name()} "
              f"(built in {time.perf_counter() - began:.1f} s)")  # fmt: skip
        ctx = open_web_context(config)
        ctx.accounts.add_user("bench", PASSWORD, Role.OPERATOR)
        app = create_app(ctx)
        freeze_startup_objects()  # as WebServer.start() does
        with TestClient(app) as client:
            token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
            assert token is not None
            client.post(
                "/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token.group(1)}
            )
            flips = iter(range(10**9))

            def presence_change() -> None:
                # A kiosk goes offline or comes back before every request: the cached view cannot be reused.
                n = next(flips)
                with ctx.fleet.engine.begin() as conn:
                    conn.execute(
                        update(kiosk_state)
                        .where(kiosk_state.c.device_id == f"jp-{CITIES[1]}-k{1 + 8 * (n % 200):04d}")
                        .values(status="offline" if n % 2 else "online", since=int(time.time() * 1000) + n)
                    )

            rss_before = _reset_peak_rss()
            warm_s = KpiWarmer(ctx).warm_once()  # what `kiosk-central serve` does in the background at start
            print(f"{'KPI background warm-up pass (at serve start)':<44} {warm_s * 1000:7.1f} ms, "
                  f"peak RSS {_peak_rss_mib():.0f} MiB (before: {rss_before:.0f} MiB)")  # fmt: skip
            cold_kpi = time.perf_counter()
            assert client.get("/kpi").status_code == 200
            cold_ms = (time.perf_counter() - cold_kpi) * 1000
            print(f"{'KPI page, 30 days, first request':<44} {cold_ms:7.1f} ms")
            pages: list[tuple[str, str, int, Callable[[], None] | None]] = [
                ("fleet page, a kiosk changed before each", "/fleet", args.runs, presence_change),
                (
                    "fleet fragment, a kiosk changed before each",
                    "/fleet/fragment",
                    args.runs,
                    presence_change,
                ),
                ("fleet page, unchanged fleet (cached view)", "/fleet", args.runs, None),
                (
                    "branch page (1/8 of the fleet), changing",
                    f"/fleet/branch/{CITIES[0]}",
                    args.runs,
                    presence_change,
                ),
                ("device page, changing", "/devices/jp-999999-k0000", args.runs, presence_change),
                ("alerts page", "/alerts", args.runs, None),
                ("KPI page, 30 days, warm", "/kpi", max(5, args.runs // 3), None),
            ]
            # A new process: the in-memory caches are empty, the per-day KPI rows are in the database.
            restarted = open_web_context(config)
            with TestClient(create_app(restarted)) as second:
                token = re.search(r'name="csrf_token" value="([^"]+)"', second.get("/login").text)
                assert token is not None
                second.post(
                    "/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token.group(1)}
                )
                for label, path in (
                    ("KPI page, 30 days, after a restart", "/kpi"),
                    ("fleet page, after a restart", "/fleet"),
                ):
                    begin = time.perf_counter()
                    response = second.get(path)
                    assert response.status_code == 200 and response.url.path == path, path
                    print(f"{label:<44} {(time.perf_counter() - begin) * 1000:7.1f} ms")
            restarted.fleet.close()
            for label, path, runs, before in pages:
                times = sorted(timed(client, path, runs, before))
                p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
                print(f"{label:<44} p50 {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms   "
                      f"max {times[-1]:7.1f} ms   ({runs} requests)")  # fmt: skip
        ctx.fleet.close()
    print("target: fleet page p95 <= 300 ms")


if __name__ == "__main__":
    main()
