"""Benchmark: start-up time of the `kiosk` and `kiosk-central` commands (issue 20, item 5).

Runs each command N times as a new process (the console scripts beside this Python) and prints the
median and the spread in milliseconds. `--baseline REV` also runs the same commands on the code of git
revision REV (exported to a temporary folder and put first on PYTHONPATH), for a before/after table in
one run. `--importtime` lists the heaviest imports of each command (`python -X importtime`).
Target: `kiosk --help` <= 300 ms.

    .venv/bin/python benchmarks/cli_startup.py [--runs 15] [--baseline 1dd3d9a] [--importtime]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
COMMANDS = (("kiosk", "--help"), ("kiosk", "run", "--help"), ("kiosk-central", "--help"))
TARGET_MS: dict[tuple[str, ...], float] = {("kiosk", "--help"): 300.0}


def _env(code_dir: Path | None, tmp: Path) -> dict[str, str]:
    env = dict(os.environ, TMPDIR=str(tmp))
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if code_dir is not None:
        env["PYTHONPATH"] = str(code_dir)
    return env


def _time_ms(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=120
    )
    return (time.perf_counter() - started) * 1000


def measure(code_dir: Path | None, runs: int, tmp: Path) -> dict[tuple[str, ...], list[float]]:
    """Wall-clock milliseconds of `runs` starts of every command (after one warm-up start each)."""
    env = _env(code_dir, tmp)
    times: dict[tuple[str, ...], list[float]] = {}
    for command in COMMANDS:
        argv = [str(BIN / command[0]), *command[1:]]
        _time_ms(argv, env)  # warm-up: byte-code compiled, files in the page cache
        times[command] = [_time_ms(argv, env) for _ in range(runs)]
    return times


def heaviest_imports(command: tuple[str, ...], tmp: Path, top: int) -> list[tuple[float, str]]:
    """The `top` imports with the largest cumulative time (ms) when `command` starts."""
    argv = [sys.executable, "-X", "importtime", str(BIN / command[0]), *command[1:]]
    done = subprocess.run(argv, env=_env(None, tmp), capture_output=True, text=True, timeout=120, check=True)
    rows: list[tuple[float, str]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|")
        rows.append((int(cumulative) / 1000, name.rstrip()))
    return sorted(rows, reverse=True)[:top]


def export_revision(revision: str, into: Path) -> Path:
    """The project's packages at git `revision`, unpacked under `into`."""
    into.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def _row(label: str, command: tuple[str, ...], samples: list[float]) -> str:
    median = statistics.median(samples)
    target = TARGET_MS.get(command)
    verdict = "" if target is None else ("  ok" if median <= target else f"  over {target:.0f} ms")
    return (
        f"{label:<10} {' '.join(command):<22} median {median:7.1f} ms   "
        f"min {min(samples):7.1f}   max {max(samples):7.1f}{verdict}"
    )


def main() -> int:
    """Run the benchmark and print one line per command (and revision)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15, help="starts per command (default 15)")
    parser.add_argument("--baseline", metavar="REV", help="also measure git revision REV (before)")
    parser.add_argument("--importtime", action="store_true", help="list the heaviest imports per command")
    parser.add_argument("--top", type=int, default=8, help="with --importtime: how many (default 8)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cli-startup-"))
    try:
        print(f"{args.runs} starts per command, {os.cpu_count()} CPUs, {sys.version.split()[0]}")
        if args.baseline:
            before_dir = export_revision(args.baseline, tmp / "baseline")
            (tmp / "baseline-tmp").mkdir()
            before = measure(before_dir, args.runs, tmp / "baseline-tmp")
            for command, samples in before.items():
                print(_row(args.baseline[:10], command, samples))
        (tmp / "now-tmp").mkdir()
        for command, samples in measure(None, args.runs, tmp / "now-tmp").items():
            print(_row("now", command, samples))
        if args.importtime:
            for command in COMMANDS:
                print(f"\nheaviest imports of `{' '.join(command)}` (cumulative ms):")
                for ms, name in heaviest_imports(command, tmp / "now-tmp", args.top):
                    print(f"  {ms:8.1f}  {name.strip()}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
