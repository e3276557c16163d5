"""enrol-serve under a denial-of-service attempt: slowloris clients and a huge body. Prints figures; asserts nothing.

Runs `kiosk-central enrol-serve` (default limits) on a free loopback port with a fresh PKI, then:
1. N real enrolments one after the other (baseline);
2. the same while 70 TLS clients hold half-sent headers and 20 never start TLS;
3. how many of those the server has closed after its header deadline;
4. a POST declaring 256 MiB that then streams up to 64 MiB: time to the answer, server RSS before and after.

    .venv/bin/python benchmarks/enrol_serve.py [N]
"""

from __future__ import annotations

import json
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from central_broker.enrolment import TokenStore
from central_broker.pki import Pki
from kiosk_app.enrolment.identity import csr_pem, new_key
from madoguchi.enrolment import ENROL_PATH

MIB = 1024 * 1024
# `kiosk-central` from the current directory's sources (run from the repository root)
_CENTRAL = [sys.executable, "-c", "import sys; from central_broker.cli import main; sys.exit(main())"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def _closed_by_server(conn: socket.socket) -> bool:
    conn.settimeout(0.5)
    try:
        while conn.recv(4096):
            pass
    except TimeoutError:
        return False
    except OSError:
        pass  # reset or TLS error: closed as well
    return True


def _enrol(url: str, context: ssl.SSLContext, store: TokenStore, device: str) -> tuple[int, float]:
    body = {
        "device_id": device,
        "token": store.issue(device, "bench", 3600).token,
        "csr_pem": csr_pem(new_key(), device),
        "device_time": int(time.time()),
    }
    request = urllib.request.Request(
        url + ENROL_PATH, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as answer:
            answer.read()
            status = answer.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError):
        status = 0
    return status, time.perf_counter() - t0


def _round(label: str, url: str, context: ssl.SSLContext, store: TokenStore, prefix: str, count: int) -> None:
    results = [_enrol(url, context, store, f"jp-999999-{prefix}{i:03d}") for i in range(count)]
    ok = sorted(t for s, t in results if s == 200)
    codes = sorted({s for s, _ in results})
    p50 = f"{statistics.median(ok) * 1000:.0f} ms" if ok else "-"
    print(f"{label:<34} {len(ok)}/{count} enrolled (statuses {codes}), p50 {p50}, max {max(t for _, t in results) * 1000:.0f} ms")  # fmt: skip


def main(count: int) -> None:
    """Run the four measurements and print them."""
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        pki = Pki.init(base / "pki")
        pki.issue_service("enrol", ["127.0.0.1"])
        store = TokenStore(base / "data" / "enrolment.db")
        port = _free_port()
        server = subprocess.Popen(
            [*_CENTRAL, "enrol-serve", "--port", str(port), "--pki-dir", str(base / "pki"),
             "--data-dir", str(base / "data")], stderr=subprocess.DEVNULL,
        )  # fmt: skip
        held: list[socket.socket] = []
        try:
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)
            url = f"https://127.0.0.1:{port}"
            context = ssl.create_default_context(cafile=str(pki.dir / "root" / "root.pem"))
            _round("baseline", url, context, store, "a", count)

            for _ in range(70):
                sock = context.wrap_socket(
                    socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1"
                )
                sock.sendall(b"POST /v1/enrol HTTP/1.1\r\nHost: central\r\n")
                held.append(sock)
            held += [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
            attack_start = time.monotonic()
            _round("with 70+20 slowloris clients", url, context, store, "b", count)

            time.sleep(max(0.0, attack_start + 14 - time.monotonic()))
            closed = sum(_closed_by_server(conn) for conn in held[:70])
            print(f"{'slowloris closed after 14 s':<34} {closed}/70 TLS clients")
            for conn in held:
                conn.close()

            rss_before = _rss_kib(server.pid)
            sock = context.wrap_socket(
                socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1"
            )
            sock.sendall(
                f"POST {ENROL_PATH} HTTP/1.1\r\nHost: central\r\nContent-Length: {256 * MIB}\r\n\r\n".encode()
            )
            t0 = time.perf_counter()
            sent = 0
            sock.settimeout(10)
            try:
                for _ in range(64):
                    sock.sendall(b"x" * MIB)
                    sent += MIB
            except OSError:
                pass
            try:
                answer = sock.recv(200).split(b"\r\n", 1)[0].decode()
            except (TimeoutError, OSError):
                answer = "(no answer in 10 s)"
            elapsed = time.perf_counter() - t0
            sock.close()
            time.sleep(0.5)
            rss_after = _rss_kib(server.pid)
            print(f"{'256 MiB declared body':<34} {answer!r} after {elapsed:.2f} s, {sent // MIB} MiB accepted by the socket")  # fmt: skip
            print(f"{'server RSS before / after':<34} {rss_before // 1024} / {rss_after // 1024} MiB")
        finally:
            for conn in held:
                conn.close()
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
