"""`kiosk payment sale` input: a bad kiosk id or order id is refused before anything is journaled or sent;
an order already paid is answered (exit 0), not charged again; and a journal entry an older version left
unsendable (unchecked kiosk id) no longer breaks recovery or blocks its order for good."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from device_drivers.payment.messages import Method
from device_drivers.payment.records import JournalState, Operation
from tests.fixtures.serial_pty import StartSim
from tests.payment_helpers import KIOSK_ID, Run, kiosk_cli, make_kiosk


@pytest.fixture
def kiosk(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """`kiosk ARGS...` run in this process."""
    return kiosk_cli(capsys)


def _sale(kiosk: Callable[..., Run], device: str, data_dir: Path, order: str, *extra: str) -> Run:
    return kiosk(
        "payment",
        "sale",
        "--device",
        f"serial://{device}",
        "--amount",
        "300",
        "--method",
        "credit",
        "--order",
        order,
        "--data-dir",
        str(data_dir),
        *extra,
    )


def _journal_refs(kiosk: Callable[..., Run], data_dir: Path) -> list[str]:
    listed = kiosk("payment", "journal", "--data-dir", str(data_dir), "--json")
    assert listed.returncode == 0, listed.stderr
    return [r["ref"] for r in json.loads(listed.stdout)]


@pytest.mark.parametrize(
    "kiosk_id",
    [
        "窓口-k01",  # not ASCII: the reference could never be framed
        "jp-131016-k03\x1c9",  # the KPL field separator
        "jp-131016-k" + "0" * 60,  # longer than 64
        "JP-131016-K03",  # device ids are lower case
    ],
)
def test_sale_with_a_bad_kiosk_id_is_refused_before_journal_or_terminal(
    tmp_path: Path, payment_sim: StartSim, kiosk: Callable[..., Run], kiosk_id: str
) -> None:
    """GIVEN a kiosk journal with one paid sale WHEN a sale is asked with an unusable --kiosk-id THEN exit 2
    saying the kiosk id is wrong and how to fix it, the journal is unchanged and the terminal received
    no frame at all."""
    sim = payment_sim("approve")
    first = _sale(kiosk, sim.path, tmp_path, "P00000000021", "--kiosk-id", KIOSK_ID)
    assert first.returncode == 0, first.stderr
    before = _journal_refs(kiosk, tmp_path)
    sim.terminal.received.clear()

    result = _sale(kiosk, sim.path, tmp_path, "P00000000022", "--kiosk-id", kiosk_id)

    assert result.returncode == 2
    assert "kiosk id" in result.stderr and "a-z, 0-9" in result.stderr and "fix: " in result.stderr
    assert "Traceback" not in result.stderr
    assert _journal_refs(kiosk, tmp_path) == before
    assert sim.terminal.received == []
    assert len(sim.ledger.charges()) == 1


@pytest.mark.parametrize(
    "order",
    [
        "注文-1",  # not ASCII
        "o\x1b[2J",  # a terminal control sequence
        "order 42",  # a space
        "o" * 65,  # longer than 64
        "",
    ],
)
def test_sale_with_a_bad_order_id_is_refused_before_journal_or_terminal(
    tmp_path: Path, payment_sim: StartSim, kiosk: Callable[..., Run], order: str
) -> None:
    """GIVEN a kiosk journal with one paid sale WHEN a sale is asked with an unusable --order THEN exit 2
    saying what an order id may contain, the journal is unchanged and the terminal received no frame."""
    sim = payment_sim("approve")
    assert _sale(kiosk, sim.path, tmp_path, "P00000000031").returncode == 0
    before = _journal_refs(kiosk, tmp_path)
    sim.terminal.received.clear()

    result = _sale(kiosk, sim.path, tmp_path, order)

    assert result.returncode == 2
    assert "order id" in result.stderr and "1-64 characters" in result.stderr and "fix: " in result.stderr
    assert _journal_refs(kiosk, tmp_path) == before
    assert sim.terminal.received == []
    assert len(sim.ledger.charges()) == 1


def test_sale_of_an_order_already_paid_is_an_answer_and_charges_nothing(
    tmp_path: Path, payment_sim: StartSim, kiosk: Callable[..., Run]
) -> None:
    """GIVEN order P00000000041 paid through the terminal WHEN the same sale is asked again THEN exit 0,
    JSON says already paid, not charged again, with the paying reference, and the terminal gets no SAL."""
    sim = payment_sim("approve")
    first = _sale(kiosk, sim.path, tmp_path, "P00000000041", "--json")
    assert first.returncode == 0, first.stderr
    paid_ref = json.loads(first.stdout)["ref"]
    sim.terminal.received.clear()

    again = _sale(kiosk, sim.path, tmp_path, "P00000000041", "--json")

    assert again.returncode == 0, again.stderr
    answer = json.loads(again.stdout)
    assert answer["already_paid"] is True and answer["charged_now"] is False
    assert "already paid, not charged again" in answer["message"]
    assert answer["ref"] == paid_ref and answer["paid"] is True
    assert [kind for kind, _ref in sim.terminal.received if kind in ("SAL", "VOD")] == []
    assert [c.ref for c in sim.ledger.charges()] == [paid_ref]
    assert _journal_refs(kiosk, tmp_path) == [paid_ref]


def test_entry_left_sending_by_an_unchecked_kiosk_id_goes_to_staff_and_unblocks(
    tmp_path: Path, payment_sim: StartSim, kiosk: Callable[..., Run]
) -> None:
    """GIVEN a journal where an older version left a sale SENDING under the reference '窓口-0000000001'
    (its frame could not be built, so nothing was sent) WHEN staff run `kiosk payment recover` THEN no
    traceback: exit 3, the entry is UNKNOWN saying why; staff reconcile it as not charged and the order
    can then be paid."""
    sim = payment_sim("approve")
    journal_file = tmp_path / "journal.sqlite"
    old = make_kiosk(tmp_path, sim, journal_name=journal_file.name)
    old.journal.kiosk_id = "窓口"  # what the unchecked --kiosk-id of older versions allowed
    stuck = old.journal.begin("P00000000051", Operation.SALE, 300, Method.CREDIT)
    old.journal.transition(stuck.ref, JournalState.SENDING)
    old.journal.close()
    common = ("--journal", str(journal_file), "--kiosk-id", KIOSK_ID)

    recovered = kiosk("payment", "recover", "--device", f"serial://{sim.path}", "--json", *common)

    assert recovered.returncode == 3, recovered.stderr
    (entry,) = json.loads(recovered.stdout)
    assert (entry["ref"], entry["state"], entry["needs_staff"]) == ("窓口-0000000001", "UNKNOWN", True)
    assert "no frame with it was sent" in entry["last_error"]
    settled = kiosk(
        "payment",
        "reconcile",
        "--ref",
        "窓口-0000000001",
        "--outcome",
        "not-charged",
        "--by",
        "staff-3",
        "--how",
        "terminal history: no such transaction",
        *common,
    )
    assert settled.returncode == 0, settled.stderr
    paid = kiosk(
        "payment",
        "sale",
        "--device",
        f"serial://{sim.path}",
        "--amount",
        "300",
        "--method",
        "credit",
        "--order",
        "P00000000051",
        "--json",
        *common,
    )
    assert paid.returncode == 0, paid.stderr
    assert json.loads(paid.stdout)["paid"] is True
    assert len(sim.ledger.charges()) == 1


def test_sale_after_an_interrupted_one_recovers_it_first_then_charges_once(
    tmp_path: Path, payment_sim: StartSim, kiosk: Callable[..., Run]
) -> None:
    """GIVEN a sale of order P00000000061 cut off after SENDING, before its SAL reached the terminal WHEN the
    sale is asked again THEN the old entry is settled by inquiry (not charged) and the order is paid once."""
    sim = payment_sim("approve")
    cut = make_kiosk(tmp_path, sim, journal_name="journal.sqlite")
    stuck = cut.journal.begin("P00000000061", Operation.SALE, 300, Method.CREDIT)
    cut.journal.transition(stuck.ref, JournalState.SENDING)
    cut.journal.close()

    again = kiosk(
        "payment",
        "sale",
        "--device",
        f"serial://{sim.path}",
        "--amount",
        "300",
        "--method",
        "credit",
        "--order",
        "P00000000061",
        "--journal",
        str(tmp_path / "journal.sqlite"),
        "--kiosk-id",
        KIOSK_ID,
        "--json",
    )

    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["paid"] is True
    assert ("INQ", stuck.ref) in sim.terminal.received
    assert len(sim.ledger.charges()) == 1
