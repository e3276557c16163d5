"""`kiosk payment ...`, `kiosk payment-simulator` and `kiosk diag payment`, run as a person would."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.serial_pty import StartSim
from tests.payment_helpers import Run, kiosk_cli

KIOSK = str(Path(sys.executable).parent / "kiosk")


@pytest.fixture
def kiosk(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """`kiosk ARGS...` run in this process."""
    return kiosk_cli(capsys)


def test_simulator_command_serves_a_sale_and_records_the_charge(
    tmp_path: Path, kiosk: Callable[..., Run]
) -> None:
    """GIVEN `kiosk payment-simulator --pty` running WHEN `kiosk payment sale` pays 300 yen through the
    path in its link file THEN exit 0, JSON says paid, the journal and the ledger show one payment."""
    link, ledger, journal = tmp_path / "link", tmp_path / "ledger.jsonl", tmp_path / "j.sqlite"
    sim = subprocess.Popen(
        [
            KIOSK,
            "payment-simulator",
            "--pty",
            "--link-file",
            str(link),
            "--ledger",
            str(ledger),
            "--script",
            "approve",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not link.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        path = link.read_text().strip()
        sale = kiosk(
            "payment",
            "sale",
            "--device",
            f"serial://{path}",
            "--amount",
            "300",
            "--method",
            "credit",
            "--order",
            "cli-1",
            "--journal",
            str(journal),
            "--json",
        )
        assert sale.returncode == 0, sale.stderr
        data = json.loads(sale.stdout)
        assert data["paid"] is True and data["amount"] == 300 and data["state"] == "CONFIRMED"
        listed = json.loads(kiosk("payment", "journal", "--journal", str(journal), "--json").stdout)
        assert [r["ref"] for r in listed] == [data["ref"]]
        assert listed[0]["events"][0][0] == "CREATED"
        unresolved = kiosk("payment", "journal", "--unresolved", "--journal", str(journal), "--json")
        assert json.loads(unresolved.stdout) == []
        charges = [json.loads(line) for line in ledger.read_text().splitlines()]
        assert [(c["kind"], c["ref"], c["amount"]) for c in charges] == [("charge", data["ref"], 300)]
    finally:
        sim.send_signal(signal.SIGTERM)
        sim.wait(timeout=10)
    assert sim.returncode == 0


def test_sale_command_refuses_bad_amounts_with_a_fix(
    tmp_path: Path, payment_sim: StartSim, kiosk: Callable[..., Run]
) -> None:
    """GIVEN amounts 0, 12.5 and 1,000 WHEN `kiosk payment sale` runs THEN exit 2 with what is wrong and
    what to do, and the terminal received nothing."""
    sim = payment_sim("approve")
    for amount, says in (
        ("0", "at least 1 yen"),
        ("12.5", "not whole yen"),
        ("1,000", "not whole yen"),
        ("2000000", "limit"),
    ):
        result = kiosk(
            "payment",
            "sale",
            "--device",
            f"serial://{sim.path}",
            "--amount",
            amount,
            "--method",
            "qr",
            "--order",
            "o",
            "--journal",
            str(tmp_path / "j.sqlite"),
        )
        assert result.returncode == 2
        assert says in result.stderr and "fix:" in result.stderr
    assert sim.terminal.received == []


def test_sale_command_needs_a_journal_location(
    payment_sim: StartSim, kiosk: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN no --data-dir/--journal WHEN a sale is asked THEN exit 2 telling where to put the journal."""
    monkeypatch.delenv("MADOGUCHI_DATA_DIR", raising=False)
    sim = payment_sim("approve")
    result = kiosk(
        "payment",
        "sale",
        "--device",
        f"serial://{sim.path}",
        "--amount",
        "300",
        "--method",
        "qr",
        "--order",
        "o",
    )
    assert result.returncode == 2 and "--data-dir" in result.stderr
    assert sim.terminal.received == []


def test_unknown_outcome_exits_3_and_staff_reconcile_it(
    tmp_path: Path, payment_sim: StartSim, kiosk: Callable[..., Run]
) -> None:
    """GIVEN e-money 処理未了 WHEN sold by command THEN exit 3 "contact staff", listed as unresolved,
    `kiosk payment reconcile` settles it as charged, and selling the order again charges nothing."""
    sim = payment_sim("emoney-unknown")
    journal = str(tmp_path / "j.sqlite")
    sale = kiosk(
        "payment",
        "sale",
        "--device",
        f"serial://{sim.path}",
        "--amount",
        "300",
        "--method",
        "emoney",
        "--order",
        "cli-16",
        "--journal",
        journal,
    )
    assert sale.returncode == 3 and "contact staff" in sale.stdout
    unresolved = json.loads(
        kiosk("payment", "journal", "--unresolved", "--journal", journal, "--json").stdout
    )
    assert [(r["state"], r["bal_before"], r["needs_staff"]) for r in unresolved] == [("UNKNOWN", 5000, True)]
    done = kiosk(
        "payment",
        "reconcile",
        "--ref",
        unresolved[0]["ref"],
        "--outcome",
        "charged",
        "--by",
        "staff-2",
        "--how",
        "card balance 4700",
        "--journal",
        journal,
        "--json",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["state"] == "RECONCILED"
    again = kiosk(
        "payment",
        "sale",
        "--device",
        f"serial://{sim.path}",
        "--amount",
        "300",
        "--method",
        "emoney",
        "--order",
        "cli-16",
        "--journal",
        journal,
    )
    assert again.returncode == 0, again.stderr
    assert "ALREADY PAID" in again.stdout and "not charged again" in again.stdout
    assert len(sim.ledger.charges()) == 1


def test_diag_payment_sends_only_a_status_request(payment_sim: StartSim, kiosk: Callable[..., Run]) -> None:
    """GIVEN a ready terminal WHEN `kiosk diag payment` checks it THEN OK with its id, and only STS was sent."""
    sim = payment_sim("approve")
    result = kiosk("diag", "payment", "--device", f"serial://{sim.path}", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["terminal_id"] == "SIM-0001" and report["state"] == "READY"
    assert {kind for kind, _ in sim.terminal.received} == {"STS"}
    assert sim.ledger.entries() == []


def test_diag_payment_reports_a_missing_terminal(tmp_path: Path, kiosk: Callable[..., Run]) -> None:
    """GIVEN no device at the path WHEN diagnosed THEN exit 1 and the report names the problem."""
    result = kiosk("diag", "payment", "--device", f"serial://{tmp_path}/no-such-tty", "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and "no-such-tty" in report["error"]
