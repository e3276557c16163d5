"""Figures of `benchmarks/queue.py`: RSS and CPU from /proc, percentiles, and the printed report."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any, Protocol

__all__ = ["cpu_s", "report", "rss_kib"]


class _Takes(Protocol):
    latencies: list[float]
    refused: dict[str, int]


def rss_kib(pid: int) -> int:
    """RSS of `pid` and its children (KiB)."""
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                pids += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return total


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of `pid` (all its threads)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] if ordered else float("nan")


def _line(label: str, values_s: list[float], target: str = "") -> None:
    if not values_s:
        print(f"{label:<46} no samples")
        return
    ms = [v * 1000 for v in values_s]
    print(f"{label:<46} n={len(ms):5d}  p50 {_pct(ms, 0.5):7.0f} ms  p95 {_pct(ms, 0.95):7.0f} ms  "
          f"max {max(ms):7.0f} ms  {target}")  # fmt: skip


def report(args: argparse.Namespace, kiosks: _Takes | None, calls: list[tuple[str, str, float]],
            seen: dict[str, Any], sign: dict[str, str], timeline: list[tuple[float, int]]) -> None:  # fmt: skip
    """Print the take latency, call → status page / board delays and what the viewers saw."""
    assert kiosks is not None
    loaded = args.viewers * 0.95

    def under_load(at: float) -> bool:  # the last sample before `at` had ≥ 95 % of the viewers connected
        before = [n for t, n in timeline if t <= at]
        return bool(before) and before[-1] >= loaded

    full = sum(1 for _t, n in timeline if n >= loaded)
    print(f"tickets: {len(kiosks.latencies)} taken, refused/failed {kiosks.refused or 0}; {len(calls)} calls by "
          f"staff; viewers connected: max {max((n for _t, n in timeline), default=0)}, ≥ 95 % of {args.viewers} "
          f"in {full}/{len(timeline)} one-second samples; {seen['unwatched']} tickets unwatched, "
          f"{len(seen['errors'])} stream errors")  # fmt: skip
    _line("queue.take (kiosk RPC through Mosquitto)", kiosks.latencies, "target p95 ≤ 150 ms")
    # status: a visit seen called after its viewer connected ↔ its latest call before that
    by_number: dict[str, list[float]] = {}
    for number, _counter, at in calls:
        by_number.setdefault(number, []).append(at)
    status_all: list[float] = []
    status_full: list[float] = []
    for number, connected_at, seen_at in seen["seen_called"]:
        made = sorted(t for t in by_number.get(number, []) if connected_at <= t <= seen_at)
        if not made:
            continue  # called before the viewer connected: the page opened on "called"
        status_all.append(seen_at - made[-1])
        if under_load(made[-1]):
            status_full.append(seen_at - made[-1])
    board: dict[tuple[str, str], list[float]] = {}
    for number, counter_no, at in seen["board_seen"]:
        board.setdefault((number, counter_no), []).append(at)
    board_all: list[float] = []
    board_full: list[float] = []
    missed = 0
    for number, counter, at in calls:
        after = [t for t in board.get((number, sign.get(counter, counter)), []) if t >= at]
        if not after:
            missed += 1
            continue
        board_all.append(min(after) - at)
        if under_load(at):
            board_full.append(min(after) - at)
    _line(f"call → status page, ≥ {loaded:.0f} viewers connected", status_full, "target p95 ≤ 1 s")
    _line("call → status page, whole day", status_all)
    _line(f"call → board, ≥ {loaded:.0f} viewers connected", board_full, "target p95 ≤ 1 s")
    _line("call → board, whole day", board_all)
    if missed:
        print(f"{'':<46} {missed} calls never seen on the board (left its 13 rows between two updates)")
