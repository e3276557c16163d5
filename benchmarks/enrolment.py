"""Enrolment throughput and CRL cost: how long a batch of kiosks takes to enrol against one central.

Runs `kiosk-central enrol-serve` on a free loopback port with a fresh PKI, enrols N devices one after
the other through the real HTTPS endpoint (key + CSR on the "device", token check, signing), then
revokes them all and times the CRL rewrite. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/enrolment.py [N]
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from central_broker.enrolment import TokenStore
from central_broker.pki import Pki
from kiosk_app.enrolment import enrol


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main(count: int) -> None:
    """Enrol `count` devices and print the figures."""
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        pki = Pki.init(base / "pki")
        pki.issue_service("enrol", ["127.0.0.1"])
        store = TokenStore(base / "data" / "enrolment.db")
        ids = [f"jp-999999-k{i:03d}" for i in range(count)]
        tokens = [store.issue(device, "bench", 3600).token for device in ids]
        port = _free_port()
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "kiosk-central"), "enrol-serve", "--port", str(port),
             "--pki-dir", str(base / "pki"), "--data-dir", str(base / "data")],
        )  # fmt: skip
        try:
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)
            url, root = f"https://127.0.0.1:{port}", pki.dir / "root" / "root.pem"
            latencies = []
            start = time.perf_counter()
            for device, token in zip(ids, tokens, strict=True):
                t0 = time.perf_counter()
                enrol(url, base / "devices" / device, device, root, token=token)
                latencies.append(time.perf_counter() - t0)
            total = time.perf_counter() - start
        finally:
            server.terminate()
            server.wait(timeout=10)
        t0 = time.perf_counter()
        for device in ids:
            pki.ledger.revoke_cn("device-ca", device, "bench")
        pki.write_crls()
        crl_s = time.perf_counter() - t0
        crl_size = (pki.dir / "device-ca" / "crl.pem").stat().st_size
    latencies.sort()
    print(f"devices enrolled:        {count}")
    print(f"throughput:              {count / total:.1f} enrolments/s (sequential, one client)")
    print(f"latency p50 / p95 / max: {statistics.median(latencies) * 1000:.0f} / "
          f"{latencies[int(0.95 * (count - 1))] * 1000:.0f} / {latencies[-1] * 1000:.0f} ms")  # fmt: skip
    print(f"revoke all + CRL write:  {crl_s * 1000:.0f} ms, CRL {crl_size} bytes for {count} entries")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
