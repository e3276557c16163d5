"""Print how long parsing the sample catalog and the kiosk's per-screen queries take (run on the target Pi).

Usage: .venv/bin/python benchmarks/catalog_queries.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from madoguchi.contracts.catalog import parse_catalog, sample_catalog_path
from madoguchi.contracts.catalog_base import tokyo
from madoguchi.contracts.catalog_guide import Answer


def _timed(rounds: int, action: Callable[[], object]) -> tuple[float, float]:
    """Median and max wall time of `action` in milliseconds."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


def main() -> None:
    """Parse and query the sample catalog `--rounds` times and print median/max per operation."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=50)
    rounds = parser.parse_args().rounds
    data = sample_catalog_path().read_bytes()
    catalog = parse_catalog(data)
    closed = datetime(2026, 12, 30, 10, 0, tzinfo=tokyo())
    evening = datetime(2026, 11, 24, 18, 0, tzinfo=tokyo())
    answers = {"children": Answer.YES, "has_card": Answer.YES, "national_health": Answer.UNKNOWN}
    cases: dict[str, Callable[[], object]] = {
        f"parse_catalog ({len(data) / 1024:.0f} KiB)": lambda: parse_catalog(data),
        "fee_for x6 types": lambda: [catalog.fee_for(c.id, evening) for c in catalog.certificate_types],
        "is_open x6 types, open/closed": lambda: [
            catalog.is_open(c.id, evening) for c in catalog.certificate_types
        ],
        "is_open in 12/29-1/3 (next_open search)": lambda: catalog.is_open("koseki_zenbu", closed),
        "guide results (moving_in)": lambda: catalog.procedures.results({"moving_in"}, answers),
        "is_open over one week, every 10 min": lambda: [
            catalog.is_open("koseki_zenbu", evening + timedelta(minutes=10 * i)) for i in range(7 * 144)
        ],
    }
    print(f"catalog benchmark, {rounds} rounds (median / max ms)")
    for name, action in cases.items():
        median, worst = _timed(rounds, action)
        print(f"  {name:<42} {median:8.3f} / {worst:8.3f}")


if __name__ == "__main__":
    main()
