"""`kiosk-central users` and `kiosk-central orders` as a person runs them (real processes)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from central_broker.broker import MosquittoBroker
from central_broker.web import WebServer
from kiosk_app.rpc_client import RpcClient
from madoguchi.config.broker import BrokerConfig

BIN = Path(sys.executable).parent
PASSWORD = "a long enough passphrase"


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "kiosk-central"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_first_administrator_is_created_with_the_password_from_stdin(tmp_path: Path) -> None:
    """GIVEN an empty data folder WHEN `users add admin --role operator` reads the password from stdin
    THEN the account exists, and the password is nowhere in the output or the database file in clear."""
    result = run(
        "users",
        "add",
        "admin",
        "--role",
        "operator",
        "--data-dir",
        str(tmp_path),
        "--json",
        stdin=PASSWORD + "\n",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["role"] == "operator"
    assert PASSWORD not in result.stdout + result.stderr
    assert PASSWORD.encode() not in (tmp_path / "central.db").read_bytes()
    listing = run("users", "list", "--data-dir", str(tmp_path), "--json")
    assert [u["username"] for u in json.loads(listing.stdout)] == ["admin"]


def test_users_add_refuses_a_short_password_and_has_no_password_option(tmp_path: Path) -> None:
    """GIVEN a 4-character password WHEN added THEN exit 2 with the fix; `--password` is not an option at all."""
    result = run("users", "add", "bob", "--role", "staff", "--data-dir", str(tmp_path), stdin="abcd\n")
    assert result.returncode == 2 and "at least 10" in result.stderr
    refused = run(
        "users", "add", "bob", "--role", "staff", "--password", "x" * 12, "--data-dir", str(tmp_path)
    )
    assert refused.returncode == 2 and "unrecognized arguments" in refused.stderr


def test_orders_create_show_and_list(tmp_path: Path) -> None:
    """GIVEN the sample catalog WHEN staff create `joseki=2 sodai_gomi` THEN show and list give it back waiting."""
    created = run(
        "orders",
        "create",
        "joseki=2",
        "inkan_card_reissue",
        "--staff",
        "suzuki",
        "--data-dir",
        str(tmp_path),
        "--json",
    )
    assert created.returncode == 0, created.stderr
    order = json.loads(created.stdout)
    assert order["total_yen"] == 1800 and order["status"] == "waiting" and order["created_by"] == "suzuki"
    shown = run("orders", "show", order["code"], "--data-dir", str(tmp_path))
    assert shown.returncode == 0 and "¥1,800" in shown.stdout and "×2" in shown.stdout
    listed = run("orders", "list", "--status", "waiting", "--data-dir", str(tmp_path), "--json")
    assert [o["code"] for o in json.loads(listed.stdout)] == [order["code"]]
    bad = run("orders", "create", "joseki=two", "--data-dir", str(tmp_path))
    assert bad.returncode == 2 and "not a number" in bad.stderr
    missing = run("orders", "show", "P26040100001", "--data-dir", str(tmp_path))
    assert missing.returncode == 2 and ("no order" in missing.stderr or "not an order code" in missing.stderr)


@pytest.mark.mosquitto
def test_serve_runs_the_web_and_the_payment_rpc(tmp_path: Path, mosquitto: MosquittoBroker) -> None:
    """GIVEN `kiosk-central serve` with a web port WHEN an order is created with the CLI THEN the sign-in
    page answers with its security headers and a kiosk can look the order up over MQTT RPC."""
    port = WebServer.free_port()
    created = run("orders", "create", "joseki=1", "--data-dir", str(tmp_path), "--json")
    code = json.loads(created.stdout)["code"]
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(
        [str(BIN / "kiosk-central"), "serve", "--broker", mosquitto.url, "--data-dir", str(tmp_path),
         "--web-port", str(port)],
        stdout=log, stderr=log,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        page = None
        while time.monotonic() < deadline and page is None:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2)
            except OSError:
                time.sleep(0.2)
        assert page is not None, (tmp_path / "serve.log").read_text()
        assert page.status == 200 and "script-src 'self'" in page.headers["Content-Security-Policy"]
        kiosk = RpcClient.connect("jp-999999-k41", BrokerConfig(url=mosquitto.url))
        try:
            found = kiosk.call("payment.lookup", {"order_code": code}, timeout_s=15)
        finally:
            kiosk.close()
        assert found["order"]["total_yen"] == 750
    finally:
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(20) == 0
        log.close()


def test_staff_branches_are_set_at_creation_and_changed_later(tmp_path: Path) -> None:
    """GIVEN staff created with `--branch 本庁舎` and staff created without one WHEN an operator lists accounts,
    adds 北支所 and removes 本庁舎 THEN the listing shows each account's branches and flags the staff without one
    with the command to fix it; the change is reported and kept."""
    data = ["--data-dir", str(tmp_path)]
    made = run(
        "users",
        "add",
        "sato",
        "--role",
        "staff",
        "--branch",
        "本庁舎",
        *data,
        "--json",
        stdin=PASSWORD + "\n",
    )
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["branches"] == ["本庁舎"]
    assert run("users", "add", "suzuki", "--role", "staff", *data, stdin=PASSWORD + "\n").returncode == 0

    listing = run("users", "list", *data).stdout
    changed = run("users", "branches", "sato", "--add", "北支所", "--remove", "本庁舎", *data, "--json")
    shown = run("users", "branches", "sato", *data)
    unknown = run("users", "branches", "nobody", "--add", "北支所", *data)

    assert "branches: 本庁舎" in listing.splitlines()[0]
    assert "NO BRANCH: kiosk-central users branches suzuki --add BRANCH" in listing.splitlines()[1]
    assert json.loads(changed.stdout) == {"username": "sato", "branches": ["北支所"]}
    assert shown.stdout.strip() == "sato works at: 北支所"
    assert unknown.returncode == 2 and "there is no user 'nobody'" in unknown.stderr
