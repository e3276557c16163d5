"""`kiosk-central enrol-serve` under attack: slowloris clients, huge bodies, garbage fields (real server, real sockets)."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from central_broker.enrolment import TokenStore
from central_broker.enrolment.limits import CLOSE_GRACE_S
from kiosk_app.enrolment.identity import csr_pem, new_key
from madoguchi.enrolment import ENROL_PATH
from tests.provisioning_cli import command, wait_listening

MIB = 1024 * 1024
TIGHT_S = 2  # header and body deadline of the `tight` server


@dataclass(frozen=True)
class Server:
    port: int
    pid: int
    root: Path
    data: Path

    def tls(self, timeout: float = 10.0) -> ssl.SSLSocket:
        """A TLS connection to the server (handshake done)."""
        context = ssl.create_default_context(cafile=str(self.root))
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        return context.wrap_socket(raw, server_hostname="127.0.0.1")

    def rss_kib(self) -> int:
        """The server process's resident set (VmRSS) in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def post(self, body: bytes, timeout: float = 10.0) -> tuple[int, dict[str, str], dict[str, str]]:
        """POST to the enrolment path; (status, headers, JSON body)."""
        context = ssl.create_default_context(cafile=str(self.root))
        request = urllib.request.Request(
            f"https://127.0.0.1:{self.port}{ENROL_PATH}",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout, context=context) as answer:
                return answer.status, dict(answer.headers), _json(answer.read())
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), _json(exc.read())

    def enrol(self, device: str) -> tuple[int, dict[str, str]]:
        """A real enrolment: a fresh token and a CSR for `device`; (status, JSON body)."""
        token = TokenStore(self.data / "enrolment.db").issue(device, "本庁舎", 3600).token
        request = {
            "device_id": device,
            "token": token,
            "csr_pem": csr_pem(new_key(), device),
            "device_time": int(time.time()),
        }
        status, _, body = self.post(json.dumps(request).encode())
        return status, body


def _json(body: bytes) -> dict[str, str]:
    try:
        return dict(json.loads(body))
    except ValueError:
        return {"not-json": body.decode(errors="replace")[:200]}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(*args: str) -> None:
    subprocess.run(command("kiosk-central", *args), capture_output=True, text=True, timeout=60, check=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("pki") / "pki"
    _cli("ca", "init", "--dir", str(base))
    _cli("ca", "issue-service", "enrol", "--host", "127.0.0.1", "--dir", str(base))
    return base


def _run_server(pki: Path, data: Path, *flags: str) -> Iterator[Server]:
    port = _free_port()
    proc = subprocess.Popen(
        [*command("kiosk-central"), "enrol-serve", "--port", str(port), "--pki-dir", str(pki), "--data-dir", str(data), *flags],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_listening(proc, port, f"enrol-serve {' '.join(flags)}")
        yield Server(port, proc.pid, pki / "root" / "root.pem", data)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def server(pki: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """enrol-serve with its default limits."""
    yield from _run_server(pki, tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def tight(pki: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """enrol-serve with short deadlines and small caps, so the tests see them act."""
    deadlines = ["--header-timeout", str(TIGHT_S), "--body-timeout", str(TIGHT_S)]
    flags = [*deadlines, "--max-connections", "8", "--max-requests", "2"]
    yield from _run_server(pki, tmp_path_factory.mktemp("data"), *flags)


def _answer(sock: socket.socket, timeout: float) -> bytes:
    """Everything the server sends until it closes the connection (or `timeout`)."""
    sock.settimeout(timeout)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except (TimeoutError, ssl.SSLError, ConnectionResetError):
        pass
    return received


def _slowloris(server: Server, count: int) -> list[socket.socket]:
    """`count` TLS clients that start a request and never finish its headers, and `count` // 4 that never do TLS."""
    held: list[socket.socket] = []
    for _ in range(count):
        sock = server.tls()
        sock.sendall(b"POST /v1/enrol HTTP/1.1\r\nHost: central\r\nContent-Type: application/json\r\n")
        held.append(sock)
    held += [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(count // 4)]
    return held


def test_seventy_slowloris_clients_do_not_block_a_real_enrolment(server: Server) -> None:
    """GIVEN 70 clients holding half-sent request headers WHEN a kiosk enrols THEN it gets its certificate
    within a few seconds (idle connections do not count against the requests in progress)."""
    held = _slowloris(server, 70)
    try:
        started = time.monotonic()
        status, body = server.enrol("jp-131016-k10")
        assert status == 200, body
        assert body["device_id"] == "jp-131016-k10"
        assert time.monotonic() - started < 5
    finally:
        for sock in held:
            sock.close()


def test_half_sent_headers_are_timed_out(tight: Server) -> None:
    """GIVEN a header deadline of 2 s WHEN a client sends part of its headers and holds THEN the server answers
    408 and closes the connection within a few seconds."""
    sock = tight.tls()
    sock.sendall(b"POST /v1/enrol HTTP/1.1\r\nHost: central\r\n")
    started = time.monotonic()
    answer = _answer(sock, timeout=TIGHT_S + 5)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert time.monotonic() - started < TIGHT_S + 3


def test_a_stalled_body_is_timed_out(tight: Server) -> None:
    """GIVEN a body deadline of 2 s WHEN a client declares 2000 bytes and sends 10 THEN 408 and the connection closes."""
    sock = tight.tls()
    sock.sendall(b'POST /v1/enrol HTTP/1.1\r\nHost: central\r\nContent-Length: 2000\r\n\r\n{"device_i')
    answer = _answer(sock, timeout=TIGHT_S + 5)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"device_id" not in answer.split(b"\r\n\r\n", 1)[1]


def test_connections_beyond_the_cap_get_503_and_the_service_recovers(tight: Server) -> None:
    """GIVEN --max-connections 8 and 8 slowloris clients WHEN a 9th connects THEN it gets 503 with Retry-After;
    once the header deadline closed the slowloris clients, a real enrolment succeeds."""
    held = [tight.tls() for _ in range(8)]
    try:
        for sock in held:
            sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        extra = tight.tls()
        answer = _answer(extra, timeout=5)
        extra.close()
        assert answer.startswith(b"HTTP/1.1 503"), answer[:200]
        assert b"retry-after: 5" in answer.lower()
        time.sleep(TIGHT_S + CLOSE_GRACE_S + 0.5)  # the header deadline closes the held connections
        status, body = tight.enrol("jp-131016-k11")
        assert status == 200, body
    finally:
        for sock in held:
            sock.close()


def test_requests_beyond_the_cap_get_503_with_retry_after(tight: Server) -> None:
    """GIVEN --max-requests 2 and two requests in progress WHEN a third arrives THEN 503 with Retry-After."""
    busy = [tight.tls() for _ in range(2)]
    try:
        for sock in busy:
            sock.sendall(b"POST /v1/enrol HTTP/1.1\r\nHost: central\r\nContent-Length: 100\r\n\r\n{")
        time.sleep(0.2)
        status, headers, body = tight.post(b"{}")
        assert status == 503, body
        assert {k.lower(): v for k, v in headers.items()}["retry-after"] == "5"
        assert "busy" in body["message"]
    finally:
        for sock in busy:
            sock.close()


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (f"Content-Length: {256 * MIB}", 413),
        ("Transfer-Encoding: chunked", 411),
    ],
    ids=["declared-256-MiB", "chunked-stream"],
)
def test_a_huge_body_is_refused_before_it_is_read(server: Server, headers: str, status: int) -> None:
    """GIVEN the default 64 KiB body cap WHEN a client declares 256 MiB (or streams chunks) and sends 16 MiB
    THEN the answer is 413 (411 for chunked) within seconds and the server's memory does not grow by the body."""
    assert server.post(b"{}")[0] == 400  # warm up: the first request loads the app's code paths
    before = server.rss_kib()
    sock = server.tls()
    sock.sendall(f"POST /v1/enrol HTTP/1.1\r\nHost: central\r\n{headers}\r\n\r\n".encode())
    started = time.monotonic()
    chunk = b"100000\r\n" + b"x" * MIB + b"\r\n" if "chunked" in headers else b"x" * MIB
    sock.settimeout(5)
    try:
        for _ in range(16):
            sock.sendall(chunk)
    except (OSError, ssl.SSLError):
        pass  # the server refused and closed: the rest is never read
    answer = _answer(sock, timeout=5)
    sock.close()
    assert answer.startswith(f"HTTP/1.1 {status}".encode()), answer[:200]
    assert time.monotonic() - started < 6
    grown = server.rss_kib() - before
    assert grown < 4 * 1024, f"RSS grew by {grown} KiB"


@pytest.mark.parametrize(
    "device_time",
    ["1e30", "-1e30", "NaN", "Infinity", '"soon"', "1.5", "null", "1" + "0" * 40],
)
def test_a_nonsense_device_time_is_a_400_that_says_what_to_send(server: Server, device_time: str) -> None:
    """GIVEN a request whose device_time is huge, not finite, fractional or a string WHEN posted THEN 400 naming
    device_time with a hint, and the server keeps serving."""
    body = (
        '{"device_id": "jp-131016-k12", "token": "0123456789abcdef0123", "csr_pem": "x", '
        f'"device_time": {device_time}}}'
    )
    status, _, refusal = server.post(body.encode())
    assert status == 400, refusal
    assert refusal["code"] == "bad-request"
    assert "device_time" in refusal["message"]
    assert refusal["hint"]
    assert server.post(b"{}")[0] == 400  # still serving
