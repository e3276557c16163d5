"""Benchmark: certificate issuance through a real Mosquitto — authenticate + issue latency and throughput.

For 1, 20 and 50 concurrent simulated kiosks (in-process MQTT clients, emulated cards), each kiosk
runs the kiosk's sequence several rounds: begin → card signature over the nonce → authenticate →
options → prepare (the resident confirmed the fee; the PDF — 住民票 with seal and signed QR — is
rendered in the background) → payment at the terminal (`--payment-s`, default 3 s ± 50 %) → issue
with the approved amount → confirm. "auth+issue" is the time of the authenticate and issue RPCs as
the kiosk sees them (card and payment time excluded); PDF rendering is part of every transaction and
of the throughput. `--payment-s 0` issues right after prepare (stress: the render is then waited
for inside issue). `--cpu-load N` runs N busy-looping processes at normal priority (not niced) for
the whole run, standing in for the other services sharing the central's cores. Target: p95 <= 250 ms
at 20 concurrent kiosks.

    .venv/bin/python -m benchmarks.issuance [--levels 1,20,50] [--rounds 5] [--payment-s 3] [--cpu-load 2]
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from central_broker.broker import MosquittoBroker
from central_broker.issuance.authcheck import CrlFileChecker
from central_broker.issuance.documents import RENDER_NICENESS, render_pool
from central_broker.issuance.endpoints import issuance_handlers
from central_broker.issuance.registry import SqliteRegistry
from central_broker.issuance.seed import resident_for_persona
from central_broker.issuance.service import IssuanceService, IssuanceSettings
from central_broker.issuance.store import IssuanceStore
from central_broker.rpc_server import RpcCall, RpcHandler, RpcServer
from device_drivers.card.emulator.card import EmulatedCard
from device_drivers.card.emulator.material import JpkiTestCa, default_data_dir
from device_drivers.card.emulator.personas import PERSONAS, Persona
from device_drivers.card.emulator.transport import EmulatedTransport
from device_drivers.card.kenhojo import my_number_check_digit
from device_drivers.card.pin import Pin
from device_drivers.card.session import CardSession
from kiosk_app.issuance_client import IssuanceClient
from kiosk_app.rpc_client import RpcClient
from madoguchi.config.broker import BrokerConfig
from madoguchi.contracts.catalog_demo import always_open_catalog


class _CountingRpcClient(RpcClient):
    """The kiosk's RPC client, counting how often a request went out (first sends and re-sends)."""

    sends = 0

    def _send(self, req_id: str, payload: bytes, left_s: float) -> None:
        self.sends += 1
        super()._send(req_id, payload, left_s)


def _counted(handlers: dict[str, RpcHandler], runs: list[int]) -> dict[str, RpcHandler]:
    """The same handlers, each counting its runs in `runs[0]` (a re-send that did work shows up there)."""

    def wrap(handler: RpcHandler) -> RpcHandler:
        @functools.wraps(handler)  # keeps the `answered_afresh` mark
        def run(call: RpcCall) -> Any:
            runs[0] += 1
            return handler(call)

        return run

    return {method: wrap(h) for method, h in handlers.items()}


def _persona(index: int) -> Persona:
    number = f"{80000000000 + index:011d}"
    import dataclasses

    return dataclasses.replace(
        PERSONAS[0],
        name=f"bench-{index:03d}",
        full_name=f"計測 太郎{index:03d}",
        my_number=number + str(my_number_check_digit(number)),
    )


def _kiosk_loop(
    kiosk: IssuanceClient,
    card: EmulatedCard,
    rounds: int,
    start: threading.Barrier,
    out: list[tuple[float, float]],
    payment_s: float = 0.0,
) -> None:
    start.wait()
    for _ in range(rounds):
        session = kiosk.begin()
        with CardSession(EmulatedTransport(card)) as cs:
            auth = cs.authenticate(Pin.from_digits("1234"), session.nonce)
        t0 = time.perf_counter()
        kiosk.authenticate_with(session, auth.certificate_der, auth.signature)
        t1 = time.perf_counter()
        kiosk.options(session)
        total = kiosk.prepare(session, "juminhyo").total_yen
        if payment_s > 0:
            time.sleep(payment_s * random.uniform(0.5, 1.5))
        t2 = time.perf_counter()
        document = kiosk.issue(session, "juminhyo", payment_ref=secrets.token_hex(4), amount_yen=total)
        out.append((t1 - t0, time.perf_counter() - t2))
        kiosk.print_and_confirm(session, document, lambda pdf, copies: None)


def _burn(stop: multiprocessing.synchronize.Event) -> None:
    while not stop.is_set():
        sum(range(10_000))


def _cpu_load(count: int) -> tuple[multiprocessing.synchronize.Event, list[multiprocessing.Process]]:
    """Start `count` busy-looping processes at normal priority; set the event to end them."""
    stop = multiprocessing.Event()
    burners = [multiprocessing.Process(target=_burn, args=(stop,), daemon=True) for _ in range(count)]
    for b in burners:
        b.start()
    return stop, burners


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


_CALLS_PER_TX = 6  # begin, authenticate, options, prepare, issue, confirm


def _ms3(values: list[float]) -> str:
    return "/".join(f"{_pct(values, q) * 1000:.0f}" for q in (0.5, 0.95, 0.99))


def main() -> int:
    """Run the benchmark and print one line per concurrency level."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,20,50", help="comma-separated kiosk counts")
    parser.add_argument("--rounds", type=int, default=5, help="transactions per kiosk")
    parser.add_argument("--workers", type=int, default=8, help="RPC server handler threads")
    parser.add_argument(
        "--render-processes",
        type=int,
        default=os.cpu_count() or 2,
        help="PDF renderer processes, niced (default: one per core; 0: in-thread)",
    )
    parser.add_argument(
        "--render-nice",
        type=int,
        default=RENDER_NICENESS,
        help=f"renderer niceness (default {RENDER_NICENESS})",
    )
    parser.add_argument(
        "--payment-s", type=float, default=3.0, help="mean seconds at the payment terminal (0: stress)"
    )
    parser.add_argument(
        "--cpu-load", type=int, default=0, help="busy background processes at normal priority (default 0)"
    )
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    work = Path(tempfile.mkdtemp(prefix="bench-issuance-"))
    ca = JpkiTestCa(default_data_dir() / "bench-issuance")
    t0 = time.perf_counter()
    personas = [_persona(i) for i in range(max(levels))]
    registry = SqliteRegistry(work / "registry.sqlite")
    for p in personas:
        resident = resident_for_persona(p, household_id=f"H-{p.name}")
        registry.add_resident(resident)
        registry.enrol_certificate(resident.resident_id, ca.material(p).auth_cert)
    crl = work / "auth.crl"
    crl.write_bytes(ca.crl())
    mode = (
        f"{args.render_processes} renderer processes at nice {args.render_nice}"
        if args.render_processes
        else "rendering in-thread"
    )
    print(
        f"{mode}; {args.workers} RPC handler threads; {args.rounds} transactions per kiosk; "
        f"payment {args.payment_s:g} s mean; {args.cpu_load} busy background processes (not niced)"
    )
    print(f"set-up: {len(personas)} residents and cards in {time.perf_counter() - t0:.1f} s")
    broker = MosquittoBroker(work / "mosquitto")
    broker.start()
    key = Ed25519PrivateKey.generate()
    settings = IssuanceSettings(
        catalog=always_open_catalog(),  # the benchmark runs at any hour; the sample hours end at 23:00
        trusted_cas=(ca.auth_ca_certificate,),
        signing_key=key,
        audit_key=secrets.token_bytes(32),
    )
    store = IssuanceStore(work / "issuance.sqlite")
    pool: ProcessPoolExecutor | None = (
        render_pool(args.render_processes, args.render_nice) if args.render_processes else None
    )
    service = IssuanceService(settings, store, registry, CrlFileChecker(crl), render_pool=pool)
    config = BrokerConfig(url=broker.url)
    runs = [0]
    server = RpcServer(config, _counted(issuance_handlers(service), runs), workers=args.workers)
    server.start()
    cards = [EmulatedCard(p, ca.material(p)) for p in personas]
    clients: list[RpcClient] = []
    stop_load, burners = _cpu_load(args.cpu_load)
    try:
        warm = RpcClient.connect("jp-999999-k99", config)
        clients.append(warm)
        _kiosk_loop(IssuanceClient(warm, key.public_key()), cards[0], 3, threading.Barrier(1), [])
        print(
            f"{'kiosks':>6} {'tx':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'tx/s':>7}"
            "  auth p50/p95/p99  issue p50/p95/p99 (ms)  re-sent  re-run"
        )
        for level in levels:
            # Each level's kiosks disconnect before the next level reuses their client ids: two live clients
            # with one id make the broker drop the older one ("Connection reset by peer", "Broken pipe"),
            # and paho's reconnect then drops the newer one, over and over.
            for c in clients[1:]:
                c.close()
            del clients[1:]
            rpcs = [_CountingRpcClient.connect(f"jp-{200000 + i:06d}-k01", config) for i in range(level)]
            clients.extend(rpcs)
            kiosks = [IssuanceClient(r, key.public_key(), timeout_s=120) for r in rpcs]
            parts: list[tuple[float, float]] = []
            runs_before = runs[0]
            start = threading.Barrier(level + 1)
            with ThreadPoolExecutor(max_workers=level) as kiosk_pool:
                futures = [
                    kiosk_pool.submit(_kiosk_loop, k, cards[i], args.rounds, start, parts, args.payment_s)
                    for i, k in enumerate(kiosks)
                ]
                start.wait()
                began = time.perf_counter()
                for f in futures:
                    f.result()
                elapsed = time.perf_counter() - began
            latencies = [a + i for a, i in parts]
            resent = sum(r.sends for r in rpcs) - _CALLS_PER_TX * len(latencies)
            auth = [a for a, _ in parts]
            issue = [i for _, i in parts]
            print(
                f"{level:>6} {len(latencies):>5} {statistics.median(latencies) * 1000:>8.0f}"
                f" {_pct(latencies, 0.95) * 1000:>8.0f} {_pct(latencies, 0.99) * 1000:>8.0f}"
                f" {max(latencies) * 1000:>8.0f} {len(latencies) / elapsed:>7.1f}"
                f" {_ms3(auth):>16} {_ms3(issue):>18}  {resent:>7}"
                f"  {runs[0] - runs_before - _CALLS_PER_TX * len(latencies):>6}"
            )
    finally:
        stop_load.set()
        for b in burners:
            b.join(timeout=5)
        for c in clients:
            c.close()
        server.stop()
        if pool is not None:
            pool.shutdown()
        broker.stop()
        store.close()
        registry.close()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
