"""`benchmarks/queue.py --quick` runs end to end on a tiny day (figures are printed, not checked)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.mosquitto, pytest.mark.slow]

_ROOT = Path(__file__).resolve().parents[1]


def test_the_queue_benchmark_runs_a_tiny_day_and_prints_its_figures() -> None:
    """GIVEN the benchmark in quick mode with 12 visits, 4 viewers and a 4 s day WHEN it runs THEN it exits 0
    and prints the take latency, the call → page lines and the central's RSS (no timing is asserted)."""
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.queue", "--quick", "--visits", "12", "--viewers", "4",
         "--counters", "3", "--day-s", "4", "--service-s", "0.5"],
        cwd=_ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert "12 taken" in result.stdout
    for line in (
        "queue.take (kiosk RPC through Mosquitto)",
        "call → status page",
        "call → board",
        "central RSS",
    ):
        assert line in result.stdout, result.stdout
