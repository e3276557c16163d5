"""Host overhead of one payment sale, and fsyncs per sale.

Runs sales against the shipped simulator over a real pty with every simulated terminal delay set
to 0, so what is measured is the kiosk's own work: framing, link, journal commits (WAL +
synchronous=FULL, on the file system of --dir) and the pty round trips. Target: <= 30 ms per sale.

fsyncs are counted by re-running the sales under `strace -f -e trace=fsync,fdatasync` when strace
is installed (the simulator's ledger is kept in memory so every fsync counted is the kiosk's).

    .venv/bin/python benchmarks/payment_sale.py [--sales 200] [--dir DIR]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from device_drivers.payment.clock import SystemClock
from device_drivers.payment.driver import PaymentTerminal
from device_drivers.payment.journal import Journal
from device_drivers.payment.link import Transport
from device_drivers.payment.messages import Method
from device_drivers.payment.simulator import start_simulator
from device_drivers.payment.transport import SerialPortSource


class TimedPort(SerialPortSource):
    """The real serial port source, with the time spent waiting in read() accounted (terminal time)."""

    waited = 0.0

    def open(self) -> Transport:
        """Open the port and wrap its read()."""
        port = super().open()
        inner_read = port.read

        def read(max_bytes: int) -> bytes:
            t0 = time.perf_counter()
            try:
                return inner_read(max_bytes)
            finally:
                TimedPort.waited += time.perf_counter() - t0

        port.read = read  # type: ignore[method-assign]
        return port


JOURNAL = "bench-payments.sqlite"


def remove_journal(directory: Path) -> None:
    """Delete the benchmark journal and its WAL files (a reused --dir must start with no paid orders)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        (directory / f"{JOURNAL}{suffix}").unlink(missing_ok=True)


def filesystem_type(directory: Path) -> str:
    """The mounted file system type of `directory` (`ext4`, `tmpfs` …) from /proc/self/mounts.

    `stat -f` names every ext2/3/4 file system "ext2/ext3" (they share one magic number).
    """
    target = directory.resolve()
    best, kind = -1, "unknown"
    for line in Path("/proc/self/mounts").read_text().splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        mount = Path(fields[1].replace("\\040", " "))
        if (target == mount or mount in target.parents) and len(mount.parts) > best:
            best, kind = len(mount.parts), fields[2]
    return kind


def run_sales(count: int, directory: Path) -> dict[str, float]:
    """Run `count` sales (after 5 warm-up sales) on a new journal; timing figures in ms and commits per sale."""
    remove_journal(directory)
    sim = start_simulator("approve")
    sim.terminal.step = 0.0
    journal = Journal(directory / JOURNAL, "jp-000000-k99", clock=SystemClock())
    terminal = PaymentTerminal(TimedPort(sim.path), journal)
    try:
        terminal.open()
        for i in range(5):
            terminal.sale(f"warm-{i}", 300, Method.CREDIT)
        if count == 0:
            return {}
        walls: list[float] = []
        cpus: list[float] = []
        hosts: list[float] = []
        commits_before = journal.commits
        for i in range(count):
            t0, c0, w0 = time.perf_counter(), time.thread_time(), TimedPort.waited
            record = terminal.sale(f"bench-{i}", 300, Method.CREDIT)
            wall = time.perf_counter() - t0
            walls.append(wall * 1000)
            hosts.append((wall - (TimedPort.waited - w0)) * 1000)
            cpus.append((time.thread_time() - c0) * 1000)
            assert record.paid
        commits = (journal.commits - commits_before) / count
    finally:
        terminal.close()
        journal.close()
        sim.stop()
    walls.sort()
    hosts.sort()
    return {
        "host_p50_ms": statistics.median(hosts),
        "host_p95_ms": hosts[int(len(hosts) * 0.95) - 1],
        "wall_p50_ms": statistics.median(walls),
        "wall_p95_ms": walls[int(len(walls) * 0.95) - 1],
        "wall_mean_ms": statistics.fmean(walls),
        "kiosk_cpu_mean_ms": statistics.fmean(cpus),
        "commits_per_sale": commits,
    }


def count_fsyncs(count: int, directory: Path) -> float | None:
    """fsync + fdatasync calls per sale, measured with strace; None without strace."""
    strace = shutil.which("strace")
    if strace is None:
        return None
    out = directory / "strace.txt"
    cmd = [
        strace,
        "-f",
        "-qq",
        "-e",
        "trace=fsync,fdatasync",
        "-o",
        str(out),
        sys.executable,
        __file__,
        "--inner",
        "--sales",
        str(count),
        "--dir",
        str(directory),
    ]
    base = [
        strace,
        "-f",
        "-qq",
        "-e",
        "trace=fsync,fdatasync",
        "-o",
        str(out),
        sys.executable,
        __file__,
        "--inner",
        "--sales",
        "0",
        "--dir",
        str(directory),
    ]
    subprocess.run(base, check=True, capture_output=True)
    baseline = len([ln for ln in out.read_text().splitlines() if "sync(" in ln])
    subprocess.run(cmd, check=True, capture_output=True)
    total = len([ln for ln in out.read_text().splitlines() if "sync(" in ln])
    out.unlink()
    remove_journal(directory)
    return (total - baseline) / count


def main() -> int:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sales", type=int, default=200)
    parser.add_argument("--dir", default=None, help="directory for the journal (default: a temporary one)")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    directory = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="bench-pay-"))
    if args.inner:
        run_sales(args.sales, directory)  # --sales 0: open + warm-up only, the strace baseline
        return 0
    try:
        figures = run_sales(args.sales, directory)
        fsyncs = count_fsyncs(min(args.sales, 50), directory)
    finally:
        remove_journal(directory)
        if not args.dir:
            shutil.rmtree(directory, ignore_errors=True)
    fs = filesystem_type(directory.parent if not args.dir else directory)
    print(
        f"payment sale benchmark: {args.sales} sales, simulated terminal delays 0, journal on {fs} ({directory})"
    )
    print(
        f"  host overhead per sale (wall minus time waiting for terminal bytes): p50 {figures['host_p50_ms']:.2f} ms, "
        f"p95 {figures['host_p95_ms']:.2f} ms  (target <= 30 ms)"
    )
    print(
        f"  end-to-end per sale incl. pty round trips and simulator: p50 {figures['wall_p50_ms']:.2f} ms, p95 {figures['wall_p95_ms']:.2f} ms, "
        f"mean {figures['wall_mean_ms']:.2f} ms"
    )
    print(f"  kiosk thread CPU per sale: {figures['kiosk_cpu_mean_ms']:.2f} ms")
    print(f"  journal commits per sale: {figures['commits_per_sale']:.1f}")
    print(
        f"  fsyncs per sale: {fsyncs:.1f}"
        if fsyncs is not None
        else "  fsyncs per sale: n/a (strace not installed)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
