"""What the fleet view shows after a revocation and after a refused `fleet/keys` document (issue 17 item 8).

Through a real Mosquitto, the ingest, the central store and the dashboard: a kiosk revoked with
`kiosk-central broker revoke --store` shows revoked at once (not online until stale) and nothing it still
sends brings it back online; a `keys_rejected` alert goes away once the kiosk accepts the fleet keys again,
also when the kiosk restarted in between (the broker still held the alert of its earlier run).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from central_broker.accounts import Role
from central_broker.broker import MosquittoBroker
from central_broker.catalog_push import SigningKeys
from central_broker.catalog_push.publisher import Outgoing
from central_broker.cli import main
from central_broker.ingest import Ingest
from central_broker.store import DeviceStatus, FleetStore
from central_broker.web import WebContext
from madoguchi.contracts.signed import KeysDocument, PayloadType, sign
from madoguchi.contracts.topics import FLEET_KEYS
from tests.fixtures.central_store import wait_for_device
from tests.fixtures.fleet import new_device_id, wait_for
from tests.fixtures.fleet_signing import publish, trusting_agent
from tests.fixtures.web import make_user, signed_in

pytestmark = pytest.mark.mosquitto


def _row_status(page: str, device_id: str) -> str | None:
    """`data-status` of the kiosk's row on a fleet page (None when it has no row)."""
    found = re.search(rf'<tr id="dev-{re.escape(device_id)}" data-status="([a-z]+)"', page)
    return found.group(1) if found else None


def _open_alert_ids(store: FleetStore, device_id: str) -> set[str]:
    return {a.alert_id for a in store.alerts(open_only=True, device_id=device_id)}


def test_revoked_kiosk_shows_revoked_at_once_and_its_messages_do_not_revive_it(
    ingest: Ingest,
    central_store: FleetStore,
    mosquitto: MosquittoBroker,
    signing_keys: SigningKeys,
    web_context: WebContext,
    web_client: TestClient,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """GIVEN an online kiosk WHEN the operator runs `broker revoke DEV --store URL` THEN the fleet page, the
    device page and `fleet --json` show it revoked at once; a new birth and health it still manages to send
    (here it reconnects) are ignored and it stays revoked."""
    dev = new_device_id()
    broker_dir = tmp_path / "broker"
    broker_dir.mkdir()
    (broker_dir / "acl-devices.conf").write_text("", encoding="utf-8")  # as `broker config --pki` leaves it
    signed_in(web_client, *make_user(web_context, Role.OPERATOR))
    with trusting_agent(mosquitto, signing_keys, tmp_path / "k", dev):
        wait_for_device(central_store, dev, lambda r: r.status is DeviceStatus.ONLINE, what="online")
        assert _row_status(web_client.get("/fleet").text, dev) is None  # online and healthy: no attention row

        capsys.readouterr()
        code = main(
            ["broker", "revoke", dev, "--out", str(broker_dir), "--store", central_store.url, "--json"]
        )
        answer = json.loads(capsys.readouterr().out)
        assert code == 0 and answer["fleet_view"] == "revoked"
        assert dev in (broker_dir / "acl-devices.conf").read_text(encoding="utf-8")

        record = central_store.device(dev)
        assert record is not None and record.status is DeviceStatus.REVOKED
        assert _row_status(web_client.get("/fleet").text, dev) == "revoked"
        assert 'class="badge st-revoked"' in web_client.get(f"/devices/{dev}").text
    with trusting_agent(mosquitto, signing_keys, tmp_path / "k", dev):  # a new connection: birth, health
        wait_for(
            lambda: sum(e.code == "revoked_ignored" for e in central_store.events(dev)) >= 2,
            "the new birth and the shutdown ignored",
        )
    time.sleep(0.3)
    record = central_store.device(dev)
    assert record is not None and record.status is DeviceStatus.REVOKED
    assert _row_status(web_client.get("/fleet").text, dev) == "revoked"
    capsys.readouterr()
    assert main(["fleet", "--store", central_store.url, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    devices = listed["devices"] if isinstance(listed, dict) else listed
    assert next(d for d in devices if d["device_id"] == dev)["status"] == "revoked"


def _fleet_row(client: TestClient, dev: str) -> str:
    """The fleet view's table row of `dev` (the whole page may list other kiosks of the shared store)."""
    page = client.get("/fleet").text
    start = page.index(f'<tr id="dev-{dev}"')
    return page[start : page.index("</tr>", start)]


def test_keys_rejected_alert_goes_once_the_kiosk_accepts_the_keys_again(
    ingest: Ingest,
    central_store: FleetStore,
    mosquitto: MosquittoBroker,
    signing_keys: SigningKeys,
    web_context: WebContext,
    web_client: TestClient,
    tmp_path: Path,
) -> None:
    """GIVEN a kiosk that refused a forged `fleet/keys` (the `keys_rejected` alert is on the dashboard) WHEN it
    restarts and the operator publishes the right keys again THEN the kiosk clears its retained alert and the
    centre marks it resolved: the alert is gone from the alerts page and the fleet view."""
    dev = new_device_id()
    signed_in(web_client, *make_user(web_context, Role.OPERATOR))
    good = Outgoing(FLEET_KEYS, signing_keys.keys_document().to_bytes())
    rogue = Ed25519PrivateKey.generate()
    forged = KeysDocument(version=2**40, expires=int(time.time() * 1000) + 10**9, keys=[])
    try:
        publish(mosquitto, good)
        with trusting_agent(mosquitto, signing_keys, tmp_path / "k", dev) as (_agent, services):
            wait_for(lambda: services.trust.keys("catalog"), "keys accepted")
            publish(
                mosquitto, Outgoing(FLEET_KEYS, sign(PayloadType.KEYS, forged.to_bytes(), rogue).to_bytes())
            )
            wait_for(lambda: "fleet-keys" in _open_alert_ids(central_store, dev), "keys_rejected alert")
        page = web_client.get("/alerts").text
        assert f'data-alert="{dev}/fleet-keys"' in page and "keys_rejected" in page
        assert "keys_rejected" in _fleet_row(web_client, dev)

        publish(mosquitto, Outgoing(FLEET_KEYS, signing_keys.keys_document().to_bytes()))  # `catalog keys`
        with trusting_agent(mosquitto, signing_keys, tmp_path / "k", dev) as (_agent, services):
            wait_for(lambda: "fleet-keys" not in _open_alert_ids(central_store, dev), "keys alert cleared", 5)
            assert services.trust.keys("catalog")
        assert f'data-alert="{dev}/fleet-keys"' not in web_client.get("/alerts").text
        assert "keys_rejected" not in _fleet_row(web_client, dev)  # (other tests' kiosks may share the store)
        cleared = [
            a for a in central_store.alerts(open_only=False, device_id=dev) if a.alert_id == "fleet-keys"
        ]
        assert cleared and all(a.cleared_at is not None for a in cleared)
    finally:
        publish(mosquitto, Outgoing(FLEET_KEYS, signing_keys.keys_document().to_bytes()))
