"""The kiosk's branch office reaches the centre in its birth; operators list the fleet by branch."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from central_broker.broker import MosquittoBroker
from central_broker.catalog_push import SigningKeys
from central_broker.cli import main as central_main
from central_broker.ingest import Ingest
from central_broker.store import FleetStore, open_store, sqlite_url
from madoguchi.config.kiosk import SIMULATED_BRANCH
from madoguchi.contracts.messages import StateMessage
from tests.fixtures.fleet import new_device_id
from tests.fixtures.fleet_signing import trusting_agent

pytestmark = pytest.mark.mosquitto


def test_the_birth_carries_the_branch_and_the_fleet_command_filters_by_it(
    ingest: Ingest,
    central_store: FleetStore,
    mosquitto: MosquittoBroker,
    signing_keys: SigningKeys,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """GIVEN a kiosk configured for a branch office WHEN it connects THEN the centre records its branch and
    `kiosk-central fleet --branch` lists it under that office only."""
    dev = new_device_id()
    with trusting_agent(mosquitto, signing_keys, tmp_path / "k", dev):
        deadline = time.monotonic() + 10
        while (record := central_store.device(dev)) is None or record.branch is None:
            assert time.monotonic() < deadline, "no birth with a branch at the centre"
            time.sleep(0.05)
    assert record.branch == SIMULATED_BRANCH
    assert central_main(["fleet", "--store", central_store.url, "--branch", SIMULATED_BRANCH, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["devices"]
    assert [(d["device_id"], d["branch"]) for d in listed] == [(dev, SIMULATED_BRANCH)]
    assert central_main(["fleet", "--store", central_store.url, "--branch", "北支所", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["devices"] == []
    assert central_main(["fleet", "--store", central_store.url]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("BRANCH")


def test_a_store_created_before_branches_gains_the_column_and_keeps_its_kiosks(tmp_path: Path) -> None:
    """GIVEN a central database from before branches (no kiosk_state.branch) WHEN it is opened THEN the column
    is added, the kiosk already there is still listed, and a new birth records its branch."""
    url = sqlite_url(tmp_path / "central.db")
    store = open_store(url)
    store.record_state("jp-999999-k01", StateMessage(online=True, epoch=1, ts=1, boot_id="b", app_ver="1"))
    with store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE kiosk_state DROP COLUMN branch"))
    store.close()

    store = open_store(url)
    try:
        assert [d.device_id for d in store.devices()] == ["jp-999999-k01"]
        birth = StateMessage(online=True, epoch=2, ts=2, boot_id="c", app_ver="1", branch="北支所")
        store.record_state("jp-999999-k01", birth)
        assert store.device("jp-999999-k01").branch == "北支所"  # type: ignore[union-attr]
    finally:
        store.close()
