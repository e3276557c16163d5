"""One payment journal per kiosk: what the app writes, the staff commands (`--data-dir`) read and settle.

The app side is the runner's own terminal set-up (`kiosk_app.runner.build`), the staff side the real
`kiosk payment` command line, the terminal the simulator over a pty. Also: a journal an older version
left at `<data_dir>/payments.sqlite` is adopted without losing an entry, or refused when it would clash.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from device_drivers.payment.journal import Journal
from device_drivers.payment.messages import Method
from kiosk_app.payment_journal import journal_path
from kiosk_app.runner.build import _terminal as app_terminal
from madoguchi.config.kiosk import simulated_kiosk_config
from tests.fixtures.serial_pty import StartSim
from tests.payment_helpers import KIOSK_ID, Run, kiosk_cli, make_kiosk

BROKER = "mqtt://127.0.0.1:1883"  # only written into the configuration; nothing connects to it


@pytest.fixture
def kiosk(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """`kiosk ARGS...` run in this process."""
    return kiosk_cli(capsys)


def _listed(kiosk: Callable[..., Run], data_dir: Path, *extra: str) -> list[dict[str, object]]:
    result = kiosk("payment", "journal", "--data-dir", str(data_dir), "--json", *extra)
    assert result.returncode == 0, result.stderr
    listed: list[dict[str, object]] = json.loads(result.stdout)
    return listed


def _old_install_journal(tmp_path: Path, payment_sim: StartSim, order: str) -> tuple[Path, Path, str]:
    """A journal at the old place with one approved sale, copied while still open (WAL not folded in).

    Returns (main file copy, WAL copy, reference of the sale).
    """
    sim = payment_sim("approve", name="old")
    old = make_kiosk(tmp_path / "old-install", sim, journal_name="payments.sqlite")
    record = old.terminal.sale(order, 300, Method.CREDIT)
    assert record.paid
    copies = tmp_path / "copies"
    copies.mkdir()
    main = Path(shutil.copy2(old.journal.path, copies / "payments.sqlite"))
    wal = Path(shutil.copy2(f"{old.journal.path}-wal", copies / "payments.sqlite-wal"))
    old.terminal.close()
    old.journal.close()
    return main, wal, record.ref


def test_unknown_written_by_the_app_is_listed_and_settled_by_staff_commands(
    tmp_path: Path, payment_sim: StartSim, kiosk: Callable[..., Run]
) -> None:
    """GIVEN the kiosk app journaling an e-money 処理未了 (UNKNOWN) WHEN staff run `kiosk payment journal
    --unresolved --data-dir` with the kiosk's data directory, while the app still runs THEN the payment is
    listed, and `kiosk payment reconcile --data-dir` settles it in the journal the app uses."""
    sim = payment_sim("emoney-unknown")
    config = simulated_kiosk_config(tmp_path / "kiosk", BROKER, KIOSK_ID)
    terminal = app_terminal(f"serial://{sim.path}", config)
    assert terminal is not None
    try:
        record = terminal.sale("3f2a9c0d1e", 300, Method.EMONEY)
        assert record.needs_staff

        unresolved = _listed(kiosk, config.kiosk.data_dir, "--unresolved")
        assert [(r["ref"], r["order_id"], r["state"]) for r in unresolved] == [
            (record.ref, "3f2a9c0d1e", "UNKNOWN")
        ]
        settled = kiosk(
            "payment",
            "reconcile",
            "--ref",
            record.ref,
            "--outcome",
            "charged",
            "--by",
            "staff-7",
            "--how",
            "card balance 4700",
            "--data-dir",
            str(config.kiosk.data_dir),
        )
        assert settled.returncode == 0, settled.stderr
        assert terminal.journal.get(record.ref).paid  # the app sees the staff decision
    finally:
        terminal.close()
        terminal.journal.close()


def test_staff_command_on_a_data_dir_without_journal_says_so_and_creates_nothing(
    tmp_path: Path, kiosk: Callable[..., Run]
) -> None:
    """GIVEN a directory that is not a kiosk's data directory WHEN staff list its journal THEN exit 2
    naming the path looked at and what --data-dir must be, and no empty journal is left behind."""
    result = kiosk("payment", "journal", "--unresolved", "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert str(journal_path(tmp_path)) in result.stderr and "data_dir" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_journal_at_the_old_place_is_moved_with_entries_still_in_its_wal(
    tmp_path: Path, payment_sim: StartSim, kiosk: Callable[..., Run]
) -> None:
    """GIVEN an installation whose journal is `<data_dir>/payments.sqlite`, its last commits only in the WAL
    (as a power cut leaves it) WHEN staff list the journal with --data-dir THEN the paid sale is there,
    the file now is `<data_dir>/payments/journal.sqlite`, the old name is gone, and the order stays paid
    for the app's terminal."""
    main, wal, ref = _old_install_journal(tmp_path, payment_sim, "P00000000012")
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    os.rename(main, data_dir / "payments.sqlite")
    os.rename(wal, data_dir / "payments.sqlite-wal")

    listed = _listed(kiosk, data_dir)

    assert [(r["ref"], r["order_id"], r["paid"]) for r in listed] == [(ref, "P00000000012", True)]
    assert (data_dir / "payments" / "journal.sqlite").is_file()  # the place the docs name
    assert not (data_dir / "payments.sqlite").exists() and not (data_dir / "payments.sqlite-wal").exists()
    sim = payment_sim("approve")
    config = simulated_kiosk_config(data_dir, BROKER, KIOSK_ID)
    terminal = app_terminal(f"serial://{sim.path}", config)
    assert terminal is not None
    try:
        assert terminal.journal.paid_by("P00000000012") is not None
    finally:
        terminal.close()
        terminal.journal.close()


def test_move_cut_short_by_a_power_cut_is_finished(
    tmp_path: Path, payment_sim: StartSim, kiosk: Callable[..., Run]
) -> None:
    """GIVEN the power went off after the journal got its new name but before the old name was removed
    WHEN staff list the journal THEN the entry is listed once and only the new name remains."""
    main, wal, ref = _old_install_journal(tmp_path, payment_sim, "P00000000013")
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    old = data_dir / "payments.sqlite"
    os.rename(main, old)
    os.rename(wal, data_dir / "payments.sqlite-wal")
    _listed(kiosk, data_dir)  # moves it
    os.link(journal_path(data_dir), old)  # ... as if the old name had survived the move

    assert [r["ref"] for r in _listed(kiosk, data_dir)] == [ref]
    assert not old.exists() and journal_path(data_dir).is_file()


def test_old_journal_with_payments_next_to_the_kiosks_is_refused_naming_both(
    tmp_path: Path, payment_sim: StartSim, kiosk: Callable[..., Run]
) -> None:
    """GIVEN a data directory with the kiosk's journal and an old-place journal that holds a payment
    WHEN staff list the journal THEN exit 2 naming both files and how to look at the old one, and
    neither file is moved or changed."""
    main, wal, _ref = _old_install_journal(tmp_path, payment_sim, "P00000000014")
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    old = data_dir / "payments.sqlite"
    os.rename(main, old)
    os.rename(wal, data_dir / "payments.sqlite-wal")
    Journal(journal_path(data_dir), KIOSK_ID).close()  # the kiosk's own, in use since
    before = {p: p.read_bytes() for p in (old, data_dir / "payments.sqlite-wal", journal_path(data_dir))}

    result = kiosk("payment", "journal", "--data-dir", str(data_dir))

    assert result.returncode == 2
    assert str(old) in result.stderr and str(journal_path(data_dir)) in result.stderr
    assert f"kiosk payment journal --journal {old}" in result.stderr
    assert {p: p.read_bytes() for p in before} == before


def test_empty_old_journal_is_left_alone_and_the_kiosks_is_used(
    tmp_path: Path, payment_sim: StartSim, kiosk: Callable[..., Run]
) -> None:
    """GIVEN an empty `<data_dir>/payments.sqlite` (an older staff command created it) and the app's journal
    with a paid sale WHEN staff list the journal with --data-dir THEN they see the app's sale."""
    sim = payment_sim("approve")
    config = simulated_kiosk_config(tmp_path / "kiosk", BROKER, KIOSK_ID)
    terminal = app_terminal(f"serial://{sim.path}", config)
    assert terminal is not None
    try:
        record = terminal.sale("P00000000015", 300, Method.QR)
    finally:
        terminal.close()
        terminal.journal.close()
    Journal(config.kiosk.data_dir / "payments.sqlite", KIOSK_ID).close()

    assert [r["ref"] for r in _listed(kiosk, config.kiosk.data_dir)] == [record.ref]
    assert (config.kiosk.data_dir / "payments.sqlite").is_file()
