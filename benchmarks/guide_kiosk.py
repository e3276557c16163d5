"""Benchmark: 手続きガイド on the kiosk — a tap on an answer to the next question drawn (touch to end of next frame).

Run: .venv/bin/python benchmarks/guide_kiosk.py [--rounds N] [--language ja] [--size 1080x1920] [--size 1280x800]

Each size runs in a fresh process (one Kivy window per process) under SDL offscreen, as the UI tests do. One
round: home → 手続きガイド → the life event with the most questions (from the catalog) → every question answered
by tapping はい (the first one わからない) → result → 終わる → skip the rating. The first round renders every text
once and is reported apart ("first round max"); the last answer of a round draws the result screen and is
reported apart too. Target: answer → next question p95 <= 100 ms.
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
from typing import Any


def child(size: str, rounds: int, language: str) -> dict[str, Any]:
    """Run inside the benchmark process for one window size; return the latencies."""
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [
        p for p in sys.path if os.path.abspath(p or ".") != here
    ]  # benchmarks/queue.py shadows `queue`
    width, height = size.split("x")
    from kivy.config import Config

    from kiosk_app.ui.app import MULTISAMPLES

    Config.set("graphics", "width", width)
    Config.set("graphics", "height", height)
    Config.set("graphics", "multisamples", str(MULTISAMPLES))
    for option in list(Config.options("input")):
        Config.remove_option("input", option)
    from kivy.base import EventLoop
    from kivy.core.window import Window
    from kivy.tests.common import UnitTestTouch

    from kiosk_app.flows.clock import FakeClock
    from kiosk_app.flows.guide_flow import GuideStep
    from kiosk_app.ui.controller import KioskController
    from kiosk_app.ui.root import build_root
    from madoguchi.contracts.catalog import load_sample_catalog

    EventLoop.ensure_window()
    catalog = load_sample_catalog()
    guide = catalog.procedures
    event = max(guide.life_events, key=lambda e: sum(e.id in q.life_events for q in guide.questions))
    commands: list[Any] = []
    controller = KioskController.for_catalog(catalog, commands.append, FakeClock())
    root = build_root(controller)
    Window.add_widget(root)
    EventLoop.idle()
    answers: list[float] = []
    cold: list[float] = []
    to_result: list[float] = []  # the last answer draws the result instead (reported apart)

    def tap(widget: Any) -> float:
        x, y = widget.to_window(*widget.center)
        begin = time.perf_counter()
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()
        EventLoop.idle()
        return (time.perf_counter() - begin) * 1000

    def rows() -> list[Any]:
        return list(reversed(root.screen().ids.rows.children))

    def answer_buttons() -> list[Any]:
        return list(reversed(root.screen().ids.outputs.children))

    for round_number in range(rounds + 1):
        record = cold if round_number == 0 else answers
        controller.set_home_language(language)
        tap(root.screen().ids.guide)
        names = [e.names.text(language) for e in guide.life_events]
        tap(rows()[names.index(event.names.text(language))])
        first = True
        while controller.guide.step is GuideStep.QUESTION:
            before = controller.guide.view().question
            buttons = answer_buttons()  # はい, いいえ, わからない
            took = tap(buttons[2] if first else buttons[0])
            after = controller.guide.view().question
            assert after != before, "the tap did not move on"
            (record if after is not None else to_result).append(took)
            first = False
        tap(root.screen().ids.ok)  # 終わる
        tap(root.screen().ids.skip)  # the rating screen
        assert controller.step_name() == "home", controller.step_name()
    return {"size": size, "answers_ms": sorted(answers), "cold_max_ms": round(max(cold), 1), "event": event.id,
            "result_ms": sorted(to_result[1:])}  # fmt: skip


def _p(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--language", default="ja")
    parser.add_argument("--size", action="append", help="window size WxH (default: both orientations)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.rounds, args.language)))
        return 0
    with tempfile.TemporaryDirectory(prefix="kivy-bench-") as kivy_home:
        env = dict(os.environ, KIVY_NO_ARGS="1", KIVY_NO_CONSOLELOG="1", KIVY_USE_DEFAULTCONFIG="1",
                   SDL_VIDEODRIVER="offscreen", KIVY_HOME=kivy_home)  # fmt: skip
        for size in args.size or ["1080x1920", "1280x800"]:
            out = subprocess.run(
                [sys.executable, __file__, "--child", size, "--rounds", str(args.rounds), "--language", args.language],
                env=env, capture_output=True, text=True, check=True,
            )  # fmt: skip
            data = json.loads(out.stdout.strip().splitlines()[-1])
            values = data["answers_ms"]
            print(f"{size} ({args.language}, life event {data['event']}): answer -> next question "
                  f"p50 {statistics.median(values):.1f} ms, p95 {_p(values, 0.95):.1f} ms, max {values[-1]:.1f} ms "
                  f"over {len(values)} taps; first round max {data['cold_max_ms']:.0f} ms (target p95 <= 100 ms); "
                  f"last answer -> result p50 {statistics.median(data['result_ms']):.1f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
