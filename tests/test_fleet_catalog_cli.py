"""`kiosk-central catalog keys|publish|status` and `kiosk-central command` as an operator runs them."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from central_broker.broker import MosquittoBroker
from central_broker.catalog_push import SigningKeys
from central_broker.ingest import Ingest
from central_broker.store import FleetStore, sqlite_url
from madoguchi.contracts.catalog import sample_catalog_path
from madoguchi.contracts.messages import AlertMessage, ComponentStatus, Severity
from tests.fixtures.fleet import new_device_id
from tests.fixtures.fleet_signing import trusting_agent
from tests.test_fleet_registry import birth, health

pytestmark = pytest.mark.mosquitto

BIN = Path(sys.executable).parent


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    """Run a console script of this venv."""
    return subprocess.run(
        [str(BIN / argv[0]), *argv[1:]], capture_output=True, text=True, timeout=60, check=False
    )


def test_operator_publishes_a_catalog_sends_a_command_and_sees_the_rollout(
    ingest: Ingest, central_store: FleetStore, mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    """GIVEN signing keys made with `catalog keys` and a kiosk trusting their root WHEN the operator runs
    `catalog publish` for it THEN `catalog status --json` shows it current on the sample's version;
    `command DEV rebirth --wait` reports DONE; a broken catalog file is refused with its problems."""
    keys_dir = tmp_path / "signing"
    assert run("kiosk-central", "catalog", "keys", "--dir", str(keys_dir)).returncode == 0
    keys = SigningKeys(keys_dir)
    config = tmp_path / "central.toml"
    config.write_text(
        f'[central]\ndata_dir = "{tmp_path}"\nstore_url = "{sqlite_url(tmp_path / "central" / "central.db")}"\n'
        f'[broker]\nurl = "{mosquitto.url}"\n'
    )
    dev = new_device_id()
    with trusting_agent(mosquitto, keys, tmp_path / "kiosk", dev) as (_agent, services):
        result = run("kiosk-central", "catalog", "publish", str(sample_catalog_path()), "--devices", dev,
                     "--config", str(config), "--keys", str(keys_dir), "--json")  # fmt: skip
        assert result.returncode == 0, result.stderr
        version = json.loads(result.stdout)["version"]
        deadline = time.monotonic() + 10
        while services.catalogs.version() != version and time.monotonic() < deadline:
            time.sleep(0.05)
        assert services.catalogs.version() == version
        status: dict[str, object] = {}
        while time.monotonic() < deadline:
            rows = json.loads(
                run("kiosk-central", "catalog", "status", "--config", str(config), "--json").stdout
            )
            status = next((d for d in rows["devices"] if d["device_id"] == dev), {})
            if status.get("state") == "current":
                break
            time.sleep(0.2)
        assert status["state"] == "current" and status["reported_version"] == version
        text = run("kiosk-central", "catalog", "status", "--config", str(config)).stdout
        assert dev in text and "current" in text
        answer = run("kiosk-central", "command", dev, "rebirth", "--config", str(config), "--keys", str(keys_dir),
                     "--wait", "10", "--json")  # fmt: skip
        assert answer.returncode == 0, answer.stderr
        assert [a["status"] for a in json.loads(answer.stdout)["answers"]] == ["ACCEPTED", "DONE"]
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema_version": 1, "version": 0}')
    refused = run("kiosk-central", "catalog", "publish", str(broken), "--devices", dev, "--config", str(config),
                  "--keys", str(keys_dir))  # fmt: skip
    assert refused.returncode != 0 and "version" in refused.stderr


def test_fleet_lists_component_health_and_open_alerts(central_store: FleetStore, tmp_path: Path) -> None:
    """GIVEN a kiosk whose printer warns and which has one open and one cleared alert WHEN the operator
    runs `kiosk-central fleet` THEN the table and --json show the printer status and only the open alert."""
    dev = "jp-131016-k01"
    central_store.record_state(dev, birth(4))
    central_store.record_health(dev, health(4, printer=ComponentStatus.WARNING))
    central_store.record_alert(
        dev, "paper", AlertMessage(ts=5, code="paper_near_end", severity=Severity.WARNING)
    )
    central_store.record_alert(dev, "door", AlertMessage(ts=6, code="door_open", severity=Severity.ERROR))
    central_store.record_alert(dev, "door", None)
    url = sqlite_url(tmp_path / "central" / "central.db")
    data = json.loads(run("kiosk-central", "fleet", "--store", url, "--json").stdout)
    (device,) = data["devices"]
    assert device["components"]["printer"] == "warning"
    assert [(a["alert_id"], a["code"]) for a in device["alerts"]] == [("paper", "paper_near_end")]
    table = run("kiosk-central", "fleet", "--store", url).stdout
    assert "printer=warning" in table and "warning:paper_near_end" in table and "door_open" not in table
