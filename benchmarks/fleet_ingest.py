"""Fleet ingest benchmark: N simulated kiosks → real Mosquitto → the ingest → SQLite (WAL + FULL).

Prints: connections, sustained statistics events/s with de-duplication (every kiosk also sends one
duplicate batch; the store must count each seq once), p50/p99 end-to-end latency (item created on
the kiosk → committed and `down/ack` received) at a fixed offered rate, catalog push to every kiosk
(publish → all APPLIED acks stored), and memory (RSS) of the broker, the ingest process and the
simulators. Targets (issue 6, 2-core machine): ≥ 5,000 events/s; p99 ≤ 1 s at 1,000 events/s;
catalog to 2,000 kiosks applied and acknowledged within 30 s.

    .venv/bin/python -m benchmarks.fleet_ingest                 # 2,000 kiosks (from the repository root)
    .venv/bin/python -m benchmarks.fleet_ingest --kiosks 500 --items 20 --rate 1000 --duration 10
    nice -n 10 .venv/bin/python -m benchmarks.fleet_ingest --prefill 12000000   # with a month of history

`--prefill N` bulk-writes N statistics of the same kiosks first (`benchmarks/stats_prefill.py`; the
kiosks then continue at the next seq). `--store URL` of a store that already holds statistics works
too: rates count only what this run stored, and the kiosks continue after their acknowledged seqs.

Each kiosk is one TCP connection (two file descriptors on this machine: ours and the broker's);
the script raises the soft `nofile` limit to the hard one and refuses N beyond it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import func, select

from benchmarks.fleet_sim import run_simulator
from benchmarks.stats_prefill import fleet_ids, prefill
from central_broker.broker import MosquittoBroker
from central_broker.catalog_push import SigningKeys, build_release, publish_release
from central_broker.ingest import Ingest
from central_broker.store import FleetStore, open_store, sqlite_url
from central_broker.store.telemetry_schema import kiosk_stat_progress
from madoguchi.config.central import local_central_config
from madoguchi.contracts.catalog import sample_catalog_path


def acknowledged(store: FleetStore, ids: list[str]) -> tuple[int, int]:
    """The sum and the highest of the kiosks' contiguous committed seqs (what the ingest acknowledged)."""
    through = kiosk_stat_progress.c.through_seq
    with store.engine.connect() as conn:
        total, top = conn.execute(
            select(func.sum(through), func.max(through)).where(kiosk_stat_progress.c.device_id.in_(ids))
        ).one()
    return int(total or 0), int(top or 0)


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _ask(pipes: list[Connection], command: str, arg: Any = None) -> list[Any]:
    for pipe in pipes:
        pipe.send((command, arg))
    return [pipe.recv() for pipe in pipes] if command in ("status", "latencies", "stop") else []


def _wait(predicate: Any, timeout: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.1)
    raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kiosks", type=int, default=2000, help="simulated kiosks = MQTT connections")
    parser.add_argument("--processes", type=int, default=2, help="simulator processes")
    parser.add_argument("--items", type=int, default=50, help="statistics per kiosk in the throughput phase")
    parser.add_argument("--rate", type=float, default=1000.0, help="offered events/s in the latency phase")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of the latency phase")
    parser.add_argument("--store", help="store URL (default: a new SQLite file), e.g. postgresql://u@h:p/db")
    parser.add_argument(
        "--prefill",
        type=int,
        default=0,
        help="statistics already stored before the run (12000000 = a month at 2,000 kiosks); "
        "needs an empty --store or none",
    )
    parser.add_argument("--prefill-days", type=int, default=30, help="days the prefilled statistics span")
    args = parser.parse_args()

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if 2 * args.kiosks + 200 > hard:
        raise SystemExit(
            f"{args.kiosks} kiosks need ~{2 * args.kiosks + 200} file descriptors; the limit is {hard}"
        )
    print(f"file descriptor limit {hard}; {args.kiosks} kiosks in {args.processes} processes")

    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        folder = Path(tmp)
        broker = MosquittoBroker(folder / "broker", extra_config=("max_queued_messages 0",))
        broker.start()
        url = args.store or sqlite_url(folder / "central.db")
        ids = fleet_ids(args.kiosks)
        first_seq = 1
        if args.prefill:
            filled = prefill(url, ids, args.prefill, args.prefill_days)
            first_seq = filled.per_device + 1
            print(f"prefill: {filled.rows:,} statistics of {args.kiosks} kiosks over {args.prefill_days} days "
                  f"in {filled.seconds:.0f} s ({filled.rows / filled.seconds:,.0f} rows/s)")  # fmt: skip
        store = open_store(url)
        before = store.stats_count()
        if before and not args.prefill:
            first_seq = acknowledged(store, ids)[1] + 1
            print(f"store already holds {before:,} statistics: kiosks continue at seq {first_seq}")
        config = local_central_config(folder, broker.url)
        ingest = Ingest(store, config.broker)
        ingest.start()
        assert ingest.subscribed.wait(10)
        keys = SigningKeys.init(folder / "signing")
        raw_key = keys.catalog_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        context = multiprocessing.get_context("spawn")
        pipes: list[Connection] = []
        processes = []
        started = time.monotonic()
        for p in range(args.processes):
            parent, child = context.Pipe()
            share = ids[p :: args.processes]
            process = context.Process(
                target=run_simulator, args=(share, broker.port, raw_key, child, first_seq), daemon=True
            )
            process.start()
            pipes.append(parent)
            processes.append(process)
        try:
            took = _wait(
                lambda: sum(s["connected"] for s in _ask(pipes, "status")) == args.kiosks, 120, "connections"
            )
            print(
                f"connections: {args.kiosks} connected in {time.monotonic() - started:.1f} s (last {took:.1f} s)"
            )

            total = args.kiosks * args.items
            acked_before = acknowledged(store, ids)[0]
            t0 = time.monotonic()
            _ask(pipes, "preload", args.items)
            # Progress (one row per kiosk) instead of count(*): cheap and independent of the stored history.
            _wait(
                lambda: acknowledged(store, ids)[0] - acked_before >= total, 600, f"{total} statistics stored"
            )
            elapsed = time.monotonic() - t0
            time.sleep(1.0)
            stored = store.stats_count() - before
            print(f"throughput: {total} statistics (+{args.kiosks} duplicate batches) stored in {elapsed:.2f} s = "
                  f"{total / elapsed:,.0f} events/s into {store.engine.dialect.name}; stored {stored} (de-duplicated: "
                  f"{'yes' if stored == total else 'NO'})")  # fmt: skip

            _ask(pipes, "rate", (args.rate / args.processes, args.duration))
            time.sleep(args.duration + 3)
            latencies = sorted(x for part in _ask(pipes, "latencies") for x in part)
            if latencies:
                p50 = statistics.median(latencies)
                p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
                print(f"latency at {args.rate:,.0f} events/s offered for {args.duration:.0f} s: {len(latencies)} acked, "
                      f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")  # fmt: skip

            release = build_release(sample_catalog_path().read_bytes(), keys.catalog_key())
            t0 = time.monotonic()
            publish_release(config.broker, keys, release, ids, store)
            ref = f"catalog-v{release.version}"

            def applied() -> bool:
                return sum(1 for a in store.acks(ref=ref) if a.status == "APPLIED") >= args.kiosks

            took = _wait(applied, 300, "catalog acks")
            print(f"catalog: {len(release.body):,} bytes pushed to {args.kiosks} kiosks, verified, applied and "
                  f"acknowledged (stored) in {took:.1f} s")  # fmt: skip

            sims = _ask(pipes, "status")
            print(f"memory (RSS): mosquitto {_rss_kib(broker.pid or 0) / 1024:.0f} MiB, ingest+store process "
                  f"{_rss_kib(multiprocessing.current_process().pid or 0) / 1024:.0f} MiB, simulators "
                  f"{sum(s['rss_kib'] for s in sims) / 1024:.0f} MiB (peak, {args.processes} processes)")  # fmt: skip
        finally:
            _ask(pipes, "stop")
            for process in processes:
                process.join(10)
            ingest.stop()
            store.close()
            broker.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
