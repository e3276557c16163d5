"""Benchmark: kiosk screens — cold start to first frame, memory, touch-to-next-frame latency per screen.

Run: .venv/bin/python benchmarks/kiosk_ui.py [--rounds N] [--size 1080x1920] [--size 1280x800]

Each size runs in a fresh process (one Kivy window per process) under SDL offscreen. "Cold start" is
from just before the child interpreter is spawned to the first frame of the home screen. Latency is
from a synthetic touch (down + up) to the end of the next frame, grouped by the screen touched; the
certificate flow is played once to warm up (its slowest touch is reported as "first round max") and
then `--rounds` times with device results injected as the runner would.
Targets on this machine: first frame <= 3 s, RSS <= 300 MB, p95 transition <= 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _rss_mb() -> tuple[float, float]:
    fields = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def child(size: str, rounds: int, started: float) -> dict[str, Any]:
    """Run inside the benchmark process for one window size; return the figures."""
    width, height = size.split("x")
    from kivy.config import Config

    from kiosk_app.ui.app import MULTISAMPLES

    Config.set("graphics", "width", width)
    Config.set("graphics", "height", height)
    Config.set("graphics", "multisamples", str(MULTISAMPLES))  # the kiosk's window configuration
    for option in list(Config.options("input")):
        Config.remove_option("input", option)
    from kivy.base import EventLoop
    from kivy.core.window import Window
    from kivy.tests.common import UnitTestTouch

    from kiosk_app.flows import commands as cmd
    from kiosk_app.flows import events as ev
    from kiosk_app.flows.clock import FakeClock
    from kiosk_app.flows.issuance import CertificateFlow, settings_from_catalog
    from kiosk_app.flows.register import RegisterFlow, RegisterSettings
    from kiosk_app.ui.controller import KioskController
    from kiosk_app.ui.root import build_root
    from madoguchi.contracts.catalog import load_sample_catalog
    from madoguchi.contracts.issuance import Offer, OptionsResult

    EventLoop.ensure_window()
    catalog = load_sample_catalog()
    clock = FakeClock()
    commands: list[Any] = []
    controller = KioskController(
        CertificateFlow(settings_from_catalog(catalog), clock),
        RegisterFlow(RegisterSettings(methods=("credit", "qr")), clock),
        commands.append,
        catalog,
    )
    root = build_root(controller)
    Window.add_widget(root)
    EventLoop.idle()
    first_frame = time.time() - started
    latencies: dict[str, list[float]] = {}
    cold: dict[str, list[float]] = {}
    record = cold

    def tap(widget: Any) -> None:
        screen = controller.step_name()
        x, y = widget.to_window(*widget.center)
        begin = time.perf_counter()
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()
        EventLoop.idle()
        record.setdefault(screen, []).append((time.perf_counter() - begin) * 1000)

    def ids(name: str) -> Any:
        return root.screen().ids.get(name) or root.ids[name]

    def device(*events: Any) -> None:
        for event in events:
            controller.send(event)
        EventLoop.idle()

    options = OptionsResult(
        offers=[Offer(type_id="juminhyo", name="住民票の写し", fee_yen=200, max_copies=10, options={"scope": ["all", "some"]},
                      defaults={"scope": "all"})],
        refused=[],
    )  # fmt: skip
    for round_number in range(rounds + 1):
        record = cold if round_number == 0 else latencies  # the first round renders every text once
        tap(ids("issuance"))
        tap(root.screen().ids.grid.children[-1])  # 日本語
        device(ev.CardInserted(), ev.PinTriesRead(3))
        for _digit in range(4):
            tap(ids("key1"))
        tap(ids("confirm"))
        device(ev.AuthOk("山田 太郎"))
        tap(ids("buttons").children[1])  # はい
        device(ev.OptionsReceived(options))
        tap(ids("rows").children[-1])
        tap(ids("next"))
        tap(ids("plus"))
        tap(ids("next"))
        tap(ids("buttons").children[1])  # 次へ
        tap(ids("rows").children[-1])
        device(ev.PrinterReady())
        sale = next(c for c in reversed(commands) if isinstance(c, cmd.StartPayment))
        device(ev.PaymentApproved(sale.ref), ev.PrintDone())
        tap(ids("buttons").children[0])  # OK
        device(ev.CardRemoved())
        tap(ids("skip"))
    rss, peak = _rss_mb()
    return {"size": size, "first_frame_s": round(first_frame, 3), "rss_mb": round(rss, 1), "peak_rss_mb": round(peak, 1),
            "latency_ms": {k: sorted(v) for k, v in latencies.items()},
            "cold_max_ms": round(max(v for values in cold.values() for v in values), 1)}  # fmt: skip


def _p(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--size", action="append", help="window size WxH (default: both orientations)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.rounds, float(os.environ["KIOSK_BENCH_START"]))))
        return 0
    with tempfile.TemporaryDirectory(prefix="kivy-bench-") as kivy_home:
        env = dict(os.environ, KIVY_NO_ARGS="1", KIVY_NO_CONSOLELOG="1", KIVY_USE_DEFAULTCONFIG="1",
                   SDL_VIDEODRIVER="offscreen", KIVY_HOME=kivy_home)  # fmt: skip
        for size in args.size or ["1080x1920", "1280x800"]:
            _measure_size(size, args.rounds, env)
    return 0


def _measure_size(size: str, rounds: int, env: dict[str, str]) -> None:
    """Start the app at `size` in a child process and print its figures."""
    env["KIOSK_BENCH_START"] = repr(time.time())
    # As a module from the repository root: run as a script, benchmarks/queue.py would shadow `queue`.
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.kiosk_ui", "--child", size, "--rounds", str(rounds)],
        env=env, capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent,
    )  # fmt: skip
    data = json.loads(out.stdout.strip().splitlines()[-1])
    every = sorted(v for values in data["latency_ms"].values() for v in values)
    print(f"{size}: first frame {data['first_frame_s']:.2f} s, RSS {data['rss_mb']:.0f} MB (peak {data['peak_rss_mb']:.0f} MB), "
          f"touch-to-frame p50 {statistics.median(every):.1f} ms, p95 {_p(every, 0.95):.1f} ms over {len(every)} touches; first round max {data['cold_max_ms']:.0f} ms")  # fmt: skip
    for screen, values in sorted(data["latency_ms"].items()):
        print(
            f"    {screen:<18} n={len(values):<3} p50 {statistics.median(values):6.1f} ms  p95 {_p(values, 0.95):6.1f} ms  max {values[-1]:6.1f} ms"
        )


if __name__ == "__main__":
    raise SystemExit(main())
