"""The operator runbook's daily and weekly routine, walked line by line against a test centre.

Every `kiosk-central` line between the routine markers of docs/runbook-operator.md runs with the
documented default paths mapped onto this test's PKI, broker folder and central configuration, and
must succeed — so the routine an operator follows cannot drift from the commands.
"""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

import pytest

from central_broker.broker import MosquittoBroker
from central_broker.broker_fleet import FleetTlsFiles, write_fleet_config
from central_broker.catalog_push import SigningKeys
from central_broker.cli import main
from central_broker.pki.authority import Pki
from central_broker.store import FleetStore
from tests.fixtures.fleet_signing import catalog_body
from tests.test_fleet_operations import central_toml

pytestmark = pytest.mark.mosquitto

RUNBOOK = Path(__file__).resolve().parents[1] / "docs" / "runbook-operator.md"


def routine_commands() -> list[list[str]]:
    """The `kiosk-central` command lines of the runbook's routine block (comments dropped)."""
    text = RUNBOOK.read_text(encoding="utf-8")
    block = text.split("<!-- routine:start -->", 1)[1].split("<!-- routine:end -->", 1)[0]
    commands = [shlex.split(line, comments=True) for line in block.splitlines()]
    return [c for c in commands if c and c[0] == "kiosk-central"]


def test_the_daily_and_weekly_routine_runs_as_written(
    private_mosquitto: MosquittoBroker,
    central_store: FleetStore,
    signing_keys: SigningKeys,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """GIVEN a centre with a PKI, a fleet broker configuration, a published catalog and kill switch WHEN each
    routine command of the runbook runs THEN each one exits 0 and prints its report."""
    commands = routine_commands()
    assert len(commands) >= 6
    assert {tuple(c[1:3]) for c in commands} >= {
        ("ca", "check"),
        ("issuance", "kill-switch"),
        ("catalog", "refresh"),
    }
    pki = Pki.init(tmp_path / "pki")
    pki.issue_service("broker", hosts=["127.0.0.1"])
    broker_dir = tmp_path / "mosquitto-conf"
    write_fleet_config(broker_dir, FleetTlsFiles.from_pki(pki.dir), user="root")
    keys_dir = tmp_path / "signing"
    shutil.copytree(signing_keys.dir, keys_dir)
    config = central_toml(tmp_path, private_mosquitto, keys_dir)
    catalog = tmp_path / "catalog.json"
    catalog.write_bytes(catalog_body(61))
    assert (
        main(["catalog", "publish", str(catalog), "--devices", "jp-999999-k01", "--config", str(config)]) == 0
    )
    assert main(["issuance", "kill-switch", "off", "--config", str(config), "--wait", "0"]) == 0
    paths = {
        "/etc/madoguchi/central.toml": str(config),
        "/var/lib/madoguchi/pki": str(pki.dir),
        "/etc/mosquitto/madoguchi": str(broker_dir),
    }
    for command in commands:
        argv = [paths.get(word, word) for word in command[1:]]
        capsys.readouterr()
        code = main(argv)
        out, err = capsys.readouterr()
        assert code == 0, f"{' '.join(command)} → exit {code}\n{out}\n{err}"
        assert out.strip(), f"{' '.join(command)} printed nothing"
