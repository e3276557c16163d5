"""Visit queue (issue 18) under a compressed day: queue.take latency, call → board/status page, central RSS.

Starts a real Mosquitto and a real `kiosk-central serve` (ingest, RPC server with the queue methods, lamp
publisher, web server: one process, whose RSS is measured from /proc), with a catalog grown to N counters
and `[queue] always_open`, take limits raised for the compressed day. Then, for one branch:

- K kiosks (the kiosk's `RpcClient`, MQTT 5 request/response through Mosquitto) take V numbers: 30 % in
  the first tenth of the day (the opening crowd), the rest evenly until 80 % of it; 30 % of the visits
  have a second counter (`then`);
- counter staff (a separate process, one thread per counter, working the same SQLite database through a
  `QueueService`): call next → start → done, service ≈ `--service-s`;
- status-page viewers (a separate asyncio process, each from its own 127.0.x.y address): every ticket is
  followed on `/q/<token>/events` by a free viewer, or one whose visit ended; at most `--viewers` at once;
  plus two display boards on `/board/<branch>/events?key=`.

Prints queue.take p50/p95, call → status page and call → board p50/p95 (calls made while every viewer was
connected, and all), the central's RSS and threads (from /proc, sampled every second), CPU seconds and the
machine load. The RSS baseline is taken after a warm-up (one take per kiosk, whose tickets' status pages and
the two boards are then live, and 2 s to settle), so one-time costs (imports, templates, the first snapshot)
are not counted as growth; growth is judged on the peak (what the process needed), the end of the day and
after the viewers left are printed too. Targets on a 2-core machine: take p95 ≤ 150 ms, call → board and
status p95 ≤ 1 s with 500 viewers, peak RSS growth ≤ 50 MB (10^6 bytes).

    .venv/bin/python -m benchmarks.queue            # 1,000 visits, 40 counters, 6 kiosks, 500 viewers
    .venv/bin/python -m benchmarks.queue --quick    # smoke run, ~30 s

Run it as a module from the repository root (`benchmarks/queue.py` run as a script would shadow the
standard library's `queue`).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from benchmarks.queue_report import cpu_s, report, rss_kib
from benchmarks.queue_sim import board_path, run_staff, run_viewers, write_catalog
from central_broker.broker import MosquittoBroker, free_port
from central_broker.store import open_store
from central_broker.web.queue_common import board_key, load_board_secret
from central_broker.web.setup import board_secret_file
from kiosk_app.rpc_client import RpcCallError, RpcClient, RpcTimeout
from madoguchi.config.broker import BrokerConfig
from madoguchi.config.central import load_central_config
from madoguchi.config.queue import QueueSection
from madoguchi.contracts.catalog import load_catalog
from madoguchi.contracts.messages import StateMessage
from madoguchi.contracts.queue import TicketView
from madoguchi.contracts.topics import Up, up
from madoguchi.mqtt_client import make_client

BRANCH = "本庁舎"
# `kiosk-central` from the current directory's sources (run from the repository root)
_CENTRAL = [sys.executable, "-c", "import sys; from central_broker.cli import main; sys.exit(main())"]


_FULL = {"visits": 1000, "viewers": 500, "counters": 40, "kiosks": 6, "day_s": 120.0, "service_s": 2.5}
_QUICK = {"visits": 60, "viewers": 20, "counters": 6, "kiosks": 2, "day_s": 20.0, "service_s": 1.5}


def _write_config(folder: Path, broker_url: str, web_port: int, catalog: Path, section: QueueSection) -> Path:
    path = folder / "central.toml"
    path.write_text(
        f'[central]\ndata_dir = "{folder}"\nstore_url = "sqlite:///{folder / "central.db"}"\n'
        f'catalog_file = "{catalog}"\n[broker]\nurl = "{broker_url}"\n[web]\nport = {web_port}\n'
        f'[queue]\npublic_url = "http://127.0.0.1:{web_port}"\nalways_open = true\n'
        f"take_burst = {section.take_burst}\ntake_per_minute = {section.take_per_minute}\n",
        encoding="utf-8",
    )
    return path


def _birth(broker: MosquittoBroker, devices: list[str]) -> None:
    client = make_client(f"bench-births-{uuid.uuid4().hex[:6]}", BrokerConfig(url=broker.url))
    client.connect(broker.host, broker.port)
    client.loop_start()
    for device in devices:
        message = StateMessage(
            online=True, epoch=1, ts=int(time.time() * 1000), boot_id="b", app_ver="1.0.0", branch=BRANCH
        )
        client.publish(up(device, Up.STATE), message.to_bytes(), qos=1, retain=True).wait_for_publish(10)
    client.disconnect()
    client.loop_stop()


def _wait(predicate: Callable[[], bool], timeout: float, what: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"kiosk-central serve exited ({proc.returncode}) while waiting for {what}")
        try:
            if predicate():
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")


def _threads(pid: int) -> int:
    """Threads of `pid` (0 when it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("Threads:")), 0)


def _print_memory(rss: list[int], threads: list[int], after_kib: int) -> None:
    """The central's RSS (baseline = rss[0], sampled every second) and threads, and the growth target."""
    base, peak, end = rss[0], max(rss), rss[-1]
    quarters = ", ".join(f"{rss[len(rss) * q // 4] / 1024:.0f}" for q in (1, 2, 3))
    print(f"{'central RSS (serve process), MiB':<46} baseline {base / 1024:.0f} (after warm-up), at 1/4, 1/2, 3/4 "
          f"of the run {quarters}, peak {peak / 1024:.0f}, end of day {end / 1024:.0f}, "
          f"viewers gone {after_kib / 1024:.0f}")  # fmt: skip
    growth_mb = (peak - base) * 1024 / 1e6
    verdict = "met" if growth_mb <= 50 else "MISSED"
    print(f"{'central RSS growth':<46} peak {(peak - base) / 1024:+.1f} MiB ({growth_mb:+.1f} MB), end of day "
          f"{(end - base) / 1024:+.1f} MiB, viewers gone {(after_kib - base) / 1024:+.1f} MiB"
          f"  target peak ≤ 50 MB: {verdict}")  # fmt: skip
    print(f"{'central threads':<46} baseline {threads[0]}, peak {max(threads)}, end of day {threads[-1]}")


def _port_open(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True


def _schedule(visits: int, day_s: float, rng: random.Random) -> list[float]:
    """Issue offsets: 30 % in the first tenth of the day, the rest evenly until 80 % of it."""
    rush = int(visits * 0.3)
    times = [rng.uniform(0, day_s * 0.1) for _ in range(rush)]
    times += [rng.uniform(day_s * 0.1, day_s * 0.8) for _ in range(visits - rush)]
    return sorted(times)


class _Kiosks:
    """K kiosks taking numbers on a shared schedule; each ticket is handed to the viewers."""

    def __init__(self, devices: list[str], broker_url: str, watch: Callable[[str, str], None], categories: list[str],
                 counters: list[str], categories_counter: dict[str, str]) -> None:  # fmt: skip
        self.clients = [RpcClient.connect(d, BrokerConfig(url=broker_url), retry_s=2.0) for d in devices]
        self.watch = watch
        self.categories = categories
        self.counters = counters
        self.category_counter = categories_counter
        self.latencies: list[float] = []
        self.refused: dict[str, int] = {}
        self.lock = threading.Lock()

    def _kiosk(self, client: RpcClient, offsets: list[float], start: float, rng: random.Random) -> None:
        for offset in offsets:
            time.sleep(max(0.0, start + offset - time.monotonic()))
            category = rng.choice(self.categories)
            params: dict[str, object] = {"category": category}
            if rng.random() < 0.3:
                first = self.category_counter[category]
                params["then"] = [rng.choice([c for c in self.counters if c != first])]
            t0 = time.perf_counter()
            try:
                ticket = TicketView.model_validate(client.call("queue.take", params, timeout_s=10))
            except (RpcCallError, RpcTimeout) as exc:
                with self.lock:
                    key = getattr(exc, "code", type(exc).__name__)
                    self.refused[str(key)] = self.refused.get(str(key), 0) + 1
                continue
            with self.lock:
                self.latencies.append(time.perf_counter() - t0)
            self.watch(ticket.status_token, ticket.number)

    def run(self, schedule: list[float], rng: random.Random) -> list[threading.Thread]:
        """Start one thread per kiosk, ticket i going to kiosk i mod K."""
        start = time.monotonic()
        threads = [
            threading.Thread(
                target=self._kiosk,
                args=(c, schedule[i :: len(self.clients)], start, random.Random(rng.random())),
                daemon=True,
            )
            for i, c in enumerate(self.clients)
        ]
        for thread in threads:
            thread.start()
        return threads

    def close(self) -> None:
        """Disconnect every kiosk."""
        for client in self.clients:
            client.close()


def main() -> int:
    """Run the day and print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--visits", type=int, help="visits issued over the day (1000)")
    parser.add_argument("--viewers", type=int, help="status pages followed at once (500)")
    parser.add_argument("--counters", type=int, help="counters staffed at the branch (40)")
    parser.add_argument("--kiosks", type=int, help="kiosks issuing numbers (6)")
    parser.add_argument(
        "--day-s",
        type=float,
        help="compressed day, seconds (120; then half as long again for staff to clear the lines)",
    )
    parser.add_argument("--service-s", type=float, help="mean service time at a counter, seconds (2.5)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 60 visits, 20 viewers, 6 counters, 2 kiosks, 20 s day (options given still win)",
    )
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument(
        "--py-spy", metavar="FILE", help="sample the central with py-spy during the day (collapsed stacks)"
    )
    args = parser.parse_args()
    sizes = _QUICK if args.quick else _FULL
    for name, value in sizes.items():
        if getattr(args, name) is None:  # an option given on the command line wins over --quick
            setattr(args, name, value)
    rng = random.Random(args.seed)
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print(f"{args.visits} visits over a {args.day_s:.0f} s day, {args.counters} counters, {args.kiosks} kiosks, "
          f"{args.viewers} status viewers + 2 boards; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f} at start")  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="queue-bench-") as tmp:
        folder = Path(tmp)
        broker = MosquittoBroker(folder / "broker", extra_config=("max_queued_messages 0",))
        broker.start()
        catalog = write_catalog(folder, args.counters)
        section = QueueSection(always_open=True, take_burst=100, take_per_minute=600)
        web_port = free_port()
        (folder / "central").mkdir()
        config_path = _write_config(folder / "central", broker.url, web_port, catalog.path, section)
        config = load_central_config(config_path)
        key = board_key(load_board_secret(board_secret_file(config)), BRANCH)  # the file serve reads
        command = [*_CENTRAL, "serve", "--config", str(config_path), "--web-port", str(web_port)]
        log = (folder / "central.log").open("wb")
        central = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        ctx = multiprocessing.get_context("spawn")
        stop_staff = ctx.Event()
        staff_out, staff_in = ctx.Pipe(duplex=False)
        viewer_pipe, viewer_end = ctx.Pipe()
        staff = viewers = kiosks = None
        try:
            store_url = f"sqlite:///{folder / 'central' / 'central.db'}"
            devices = [f"jp-999999-q{i:03d}" for i in range(args.kiosks)]
            _birth(broker, devices)
            store = None

            def born() -> bool:
                nonlocal store
                store = store or open_store(store_url)
                return all((r := store.device(d)) is not None and r.branch for d in devices)

            _wait(born, 120, "the kiosks' births in the store", central)
            _wait(lambda: _port_open(web_port), 60, "the web server", central)
            if store is not None:
                store.close()
            staff = ctx.Process(
                target=run_staff,
                args=(store_url, str(catalog.path), section.model_dump_json(), BRANCH, list(catalog.counters),
                      args.service_s, stop_staff, staff_in),
                daemon=True,
            )  # fmt: skip
            staff.start()
            viewers = ctx.Process(
                target=run_viewers,
                args=("127.0.0.1", web_port, args.viewers, board_path(BRANCH, key), 2, viewer_end),
                daemon=True,
            )
            viewers.start()
            pipe_lock = threading.Lock()

            def watch(token: str, number: str) -> None:
                with pipe_lock:
                    viewer_pipe.send(("watch", token, number))

            def connected() -> int:
                with pipe_lock:
                    viewer_pipe.send(("connected",))
                    return int(viewer_pipe.recv())

            categories = {c.id: c.counter for c in load_catalog(catalog.path).queue.categories}
            kiosks = _Kiosks(devices, broker.url, watch, list(catalog.categories), list(catalog.counters),
                             categories)  # fmt: skip
            # warm-up: one take per kiosk (first-call costs: imports, caches, branch look-up)
            warm = kiosks.run([0.0] * args.kiosks, rng)
            for thread in warm:
                thread.join()
            kiosks.latencies.clear()
            # ... and their status pages followed (page, stream, snapshot, template on the central's side)
            warm_until = time.monotonic() + 15
            while connected() < min(args.kiosks, args.viewers) and time.monotonic() < warm_until:
                time.sleep(0.2)
            time.sleep(2.0)
            rss: list[int] = [rss_kib(central.pid)]  # the baseline, after the warm-up
            threads: list[int] = [_threads(central.pid)]
            timeline: list[tuple[float, int]] = []
            load: list[float] = []
            pids = {"central": central.pid, "staff": staff.pid or 0, "viewers": viewers.pid or 0,
                    "mosquitto": broker.pid or 0, "kiosks (this process)": os.getpid()}  # fmt: skip
            cpu_start = {name: cpu_s(pid) for name, pid in pids.items()}
            day_start = time.time()
            if args.py_spy:
                spy = subprocess.Popen(
                    [shutil.which("py-spy") or "py-spy", "record", "--pid", str(central.pid), "--duration",
                     str(int(args.day_s)), "--format", "raw", "--output", args.py_spy, "--nonblocking"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
            kiosks.run(_schedule(args.visits, args.day_s, rng), rng)
            deadline = time.monotonic() + args.day_s * 1.5  # the last third: staff clear the lines
            while time.monotonic() < deadline:
                time.sleep(1.0)
                rss.append(rss_kib(central.pid))
                threads.append(_threads(central.pid))
                load.append(os.getloadavg()[0])
                timeline.append((time.time(), connected()))
                if central.poll() is not None:
                    raise SystemExit(f"kiosk-central serve exited ({central.returncode})")
            cpu = {name: cpu_s(pid) - cpu_start[name] for name, pid in pids.items()}
            wall = time.time() - day_start
            if args.py_spy:
                spy.wait(60)
            stop_staff.set()
            calls = staff_out.recv()
            with pipe_lock:
                viewer_pipe.send(("stop",))
                seen = viewer_pipe.recv()
            time.sleep(2.0)  # the viewers' connections close
            rss_after = rss_kib(central.pid)
        finally:
            stop_staff.set()
            if kiosks is not None:
                kiosks.close()
            for proc in (staff, viewers):
                if proc is not None:
                    proc.join(10)
                    if proc.is_alive():
                        proc.terminate()
            central.terminate()
            central.wait(30)
            broker.stop()
            log.close()
        report(args, kiosks, calls, seen, catalog.sign_numbers, timeline)
        _print_memory(rss, threads, rss_after)
        print(
            f"{'CPU seconds over the ' + f'{wall:.0f} s day':<46} "
            + ", ".join(f"{name} {seconds:.0f}" for name, seconds in cpu.items())
        )
        if load:
            print(f"{'machine load average (1 min) during the day':<46} mean {statistics.mean(load):.2f}, max {max(load):.2f}")  # fmt: skip
        tail = (folder / "central.log").read_text(errors="replace").splitlines()
        problems = [line for line in tail if "Traceback" in line or "ERROR" in line]
        if problems:
            print(f"central log: {len(problems)} error lines, first: {problems[0][:200]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
