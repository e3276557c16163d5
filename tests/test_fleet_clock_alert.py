"""An operator sees which kiosks run on an unsynchronised clock (issue 17 item 7).

Through a real Mosquitto, a real kiosk agent, the ingest, the central store, the dashboard and the CLI: a
kiosk whose timesyncd flag file is absent says `clock_synced: false` in its health; the centre raises its
own `clock-unsynced` alert, which the fleet page, the alerts page and `kiosk-central fleet` show with its
meaning; once the flag appears (NTP answered) the next health clears it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from central_broker.accounts import Role
from central_broker.broker import MosquittoBroker
from central_broker.cli import main
from central_broker.ingest import Ingest
from central_broker.store import FleetStore
from central_broker.store.clock_alert import CLOCK_ALERT, CLOCK_ALERT_CODE
from central_broker.web import WebContext
from kiosk_app.agent import AgentOptions, FleetAgent, SimulatedDeviceHealth, clock_synced
from madoguchi.config.kiosk import simulated_kiosk_config
from tests.fixtures.fleet import new_device_id, running_agent, wait_for
from tests.fixtures.web import make_user, signed_in

pytestmark = pytest.mark.mosquitto


@contextmanager
def _kiosk(
    broker: MosquittoBroker, data_dir: Path, dev: str, synced: Callable[[], bool]
) -> Iterator[FleetAgent]:
    """A running kiosk agent whose clock synchronisation is read by `synced`."""
    config = simulated_kiosk_config(data_dir, broker.url, dev)
    options = AgentOptions(reconnect_min_s=0.2, tick_s=0.05, drain_start_delay=lambda: 0.0)
    agent = FleetAgent(config, SimulatedDeviceHealth(config), options=options, clock_is_synced=synced)
    with running_agent(agent):
        yield agent


def _open_clock_alerts(store: FleetStore, dev: str) -> list[str]:
    return [a.code for a in store.alerts(open_only=True, device_id=dev) if a.alert_id == CLOCK_ALERT]


def _fleet_row(client: TestClient, dev: str) -> str:
    """The kiosk's row of the fleet page's "needs attention" table ("" when it has none)."""
    page = client.get("/fleet").text
    start = page.find(f'<tr id="dev-{dev}"')
    return "" if start < 0 else page[start : page.index("</tr>", start)]


def _cli_alerts(store: FleetStore, dev: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    capsys.readouterr()
    assert main(["fleet", "--store", store.url, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    devices = listed["devices"] if isinstance(listed, dict) else listed
    return [a["code"] for a in next(d for d in devices if d["device_id"] == dev)["alerts"]]


def test_unsynchronised_clock_is_an_alert_on_the_fleet_page_until_ntp_answers(
    ingest: Ingest,
    central_store: FleetStore,
    mosquitto: MosquittoBroker,
    web_context: WebContext,
    web_client: TestClient,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """GIVEN a kiosk that booted without network (no timesyncd flag file) WHEN its health reaches the centre
    THEN a `clock_unsynced` warning is open for it, with its meaning on the fleet page (English and Japanese),
    on the alerts page and in `kiosk-central fleet --json`; WHEN NTP answers (the flag file appears) THEN the
    kiosk's next health clears it everywhere."""
    dev = new_device_id()
    flag = tmp_path / "timesync" / "synchronized"
    signed_in(web_client, *make_user(web_context, Role.OPERATOR))
    with _kiosk(mosquitto, tmp_path / "k", dev, lambda: clock_synced(flag)):
        wait_for(lambda: _open_clock_alerts(central_store, dev) == [CLOCK_ALERT_CODE], "clock alert raised")
        alert = next(a for a in central_store.alerts(device_id=dev) if a.alert_id == CLOCK_ALERT)
        assert alert.severity == "warning" and "not synchronised" in alert.detail

        row = _fleet_row(web_client, dev)
        assert "clock_unsynced" in row and "Clock not synchronised" in row
        web_client.cookies.set("mdg_lang", "ja")
        assert "時刻が未同期です" in _fleet_row(web_client, dev)
        web_client.cookies.set("mdg_lang", "en")
        alerts_page = web_client.get("/alerts").text
        assert f'data-alert="{dev}/{CLOCK_ALERT}"' in alerts_page
        assert "Clock not synchronised" in web_client.get(f"/devices/{dev}").text
        assert _cli_alerts(central_store, dev, capsys) == [CLOCK_ALERT_CODE]

        flag.parent.mkdir(parents=True)
        flag.touch()  # systemd-timesyncd: "synchronized"
        wait_for(lambda: not _open_clock_alerts(central_store, dev), "clock alert cleared")
        assert "clock_unsynced" not in _fleet_row(web_client, dev)
        assert f'data-alert="{dev}/{CLOCK_ALERT}"' not in web_client.get("/alerts").text
        assert _cli_alerts(central_store, dev, capsys) == []
    closed = [a for a in central_store.alerts(open_only=False, device_id=dev) if a.alert_id == CLOCK_ALERT]
    assert len(closed) == 1 and closed[0].cleared_at is not None
