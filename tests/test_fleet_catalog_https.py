"""Catalogs too large for one MQTT message go by hash over HTTPS (mutual TLS), end to end: the production
broker (mTLS + ACL), the ingest, `kiosk-central enrol-serve` serving the body to device certificates, and
in-process kiosk agents with their own certificates. Small catalogs keep the retained MQTT body
(`test_fleet_catalog.py`)."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from central_broker.accounts import Role
from central_broker.broker import MosquittoBroker
from central_broker.broker_fleet import FleetBroker
from central_broker.catalog_push import SigningKeys, body_topic, build_release, publish_release
from central_broker.catalog_push.bodies import CatalogBodies
from central_broker.catalog_push.documents import MQTT_BODY_BYTES
from central_broker.ingest import Ingest
from central_broker.pki.authority import Pki
from central_broker.store import DeviceStatus, FleetStore, open_store, sqlite_url
from central_broker.web import WebContext
from central_broker.web.fleet_actions import FleetActions
from madoguchi.config.broker import BrokerConfig
from madoguchi.contracts.signed import DesiredDocument, Envelope
from madoguchi.contracts.topics import Down, down
from madoguchi.errors import UserError
from tests import test_release_rollout as releases
from tests.fixtures.central_store import wait_for_device
from tests.fixtures.fleet import new_device_id, wait_for
from tests.fixtures.fleet_pki import device_identity, service_identity
from tests.fixtures.fleet_signing import catalog_body, trusting_agent
from tests.fixtures.web import csrf_of, make_user, signed_in
from tests.test_release_rollout import Endpoint, _get, kiosk_agent, service_broker

pytestmark = pytest.mark.mosquitto

# The release tests' fixtures: `kiosk-central enrol-serve` with a central data folder, the release key kiosks
# trust, and the ingest on the service listener.
endpoint = releases.endpoint
release_key = releases.release_key
fleet = releases.fleet

BIN = Path(sys.executable).parent


def large_catalog(version: int) -> bytes:
    """The sample catalog with every procedure twice more (annex copies): some 380 KB, like a real city's guide."""
    data = json.loads(catalog_body(version))
    procedures = data["procedures"]["procedures"]
    for original in list(procedures):
        annex = copy.deepcopy(original)
        annex["id"] = f"{original['id']}-annex"
        procedures.append(annex)
    body = json.dumps(data, ensure_ascii=False, separators=(",", ": ")).encode()
    assert len(body) > 256 * 1024
    return body


def acks(store: FleetStore, device_id: str, version: int) -> list[tuple[str, str]]:
    return [(a.status, a.detail) for a in store.acks(device_id, f"catalog-v{version}")]


def catalog_alert(store: FleetStore, device_id: str) -> str | None:
    found = [a for a in store.alerts(device_id=device_id) if a.alert_id == "catalog-update"]
    return found[0].detail if found else None


@pytest.mark.usefixtures("fleet")
def test_a_catalog_over_256_kib_is_downloaded_over_mtls_and_a_tampered_one_is_refused_then_retried(
    fleet_broker: FleetBroker,
    fleet_pki: Pki,
    central_store: FleetStore,
    signing_keys: SigningKeys,
    endpoint: Endpoint,
    release_key: Path,
    tmp_path: Path,
) -> None:
    """GIVEN a kiosk with its device certificate WHEN a 380 KB catalog is published THEN no body goes over
    MQTT, the kiosk downloads it from the enrolment endpoint over mutual TLS, checks it and runs it, and the
    centre sees it current. WHEN the endpoint serves a tampered v2 body THEN the kiosk refuses it (wrong
    hash), keeps v1 and raises the catalog alert; once the right body is served it retries, applies v2 and
    the alert clears. Without a device certificate the endpoint serves nothing."""
    catalog_broker = service_broker(fleet_broker, fleet_pki, "svc-catalog")
    served = CatalogBodies.in_data_dir(endpoint.data)
    url = endpoint.url
    with ExitStack() as stack:
        kiosk = stack.enter_context(kiosk_agent(fleet_broker, fleet_pki, signing_keys,
                                                release_key.with_suffix(".pub"), tmp_path / "k1", idle=lambda: True))  # fmt: skip
        release = build_release(large_catalog(81), signing_keys.catalog_key(), download_url=url)
        assert not release.over_mqtt and release.url == f"{url}/v1/catalogs/{release.sha256}"
        publish_release(catalog_broker, signing_keys, release, [kiosk.device_id], central_store, served)
        wait_for(lambda: kiosk.services.catalogs.version() == 81, "catalog v81 applied", timeout=30)
        installed = kiosk.services.catalogs.current()
        assert installed is not None and installed.path.read_bytes() == release.body
        assert central_store.retained_document(body_topic(release.sha256)) is None  # not on the broker
        wait_for(
            lambda: "APPLIED" in [s for s, _ in acks(central_store, kiosk.device_id, 81)],
            "APPLIED at the centre",
        )
        wait_for(lambda: any(r.device_id == kiosk.device_id and r.state == "current" for r in central_store.rollout()),
                 "catalog status: current")  # fmt: skip

        code, _ = _get(release.url, fleet_pki, None)
        assert code == 403
        svc = service_identity(fleet_pki, "svc-ingest")
        assert _get(release.url, fleet_pki, (svc.cert_file, svc.key_file))[0] == 403

        second = build_release(large_catalog(82), signing_keys.catalog_key(), download_url=url)
        elsewhere = CatalogBodies(tmp_path / "not-served")
        tampered = second.body.replace(b'"version": 82', b'"version": 28')
        assert len(tampered) == len(second.body)
        served.folder.joinpath(f"{second.sha256}.json").write_bytes(tampered)
        publish_release(catalog_broker, signing_keys, second, [kiosk.device_id], central_store, elsewhere)
        wait_for(lambda: "does not match the signed hash" in (catalog_alert(central_store, kiosk.device_id) or ""),
                 "catalog alert for the tampered body")  # fmt: skip
        assert kiosk.services.catalogs.version() == 81
        failed = [d for s, d in acks(central_store, kiosk.device_id, 82) if s == "FAILED"]
        assert failed and "keeping catalog version 81" in failed[0] and "trying again" in failed[0]

        served.add(second.body)  # the operator repairs the endpoint: the kiosk's next attempt succeeds
        wait_for(
            lambda: kiosk.services.catalogs.version() == 82, "catalog v82 applied after a retry", timeout=30
        )
        wait_for(lambda: catalog_alert(central_store, kiosk.device_id) is None, "catalog alert cleared")


def test_a_large_catalog_needs_the_download_address_and_is_kept_for_the_endpoint(
    mosquitto: MosquittoBroker, signing_keys: SigningKeys, tmp_path: Path
) -> None:
    """GIVEN a catalog over one MQTT message WHEN `catalog publish` runs without `[fleet] download_url` THEN it
    is refused saying what to set; WITH it THEN the body is stored in `<data_dir>/catalogs/` for the enrolment
    endpoint, the kiosk's signed `down/desired` names the HTTPS url with the signed hash and length, and
    `catalog diff` compares a next catalog against it."""
    big = tmp_path / "big.json"
    big.write_bytes(large_catalog(91))
    data_dir = tmp_path / "central-data"
    config = tmp_path / "central.toml"
    base = (f'[central]\ndata_dir = "{data_dir}"\nstore_url = "{sqlite_url(data_dir / "central.db")}"\n'
            f'[broker]\nurl = "{mosquitto.url}"\n')  # fmt: skip
    config.write_text(base)
    dev = new_device_id()

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN / "kiosk-central"), *argv], capture_output=True, text=True, timeout=60, check=False)  # fmt: skip

    publish = ("catalog", "publish", str(big), "--devices", dev, "--config", str(config),
               "--keys", str(signing_keys.dir), "--json")  # fmt: skip
    refused = run(*publish)
    assert refused.returncode != 0 and "[fleet] download_url" in refused.stderr, refused.stderr

    config.write_text(base + '[fleet]\ndownload_url = "https://central.city.example:8443"\n')
    result = run(*publish)
    assert result.returncode == 0, result.stderr
    sha256 = json.loads(result.stdout)["sha256"]
    assert (data_dir / "catalogs" / f"{sha256}.json").read_bytes() == big.read_bytes()
    store = open_store(sqlite_url(data_dir / "central.db"))
    try:
        payload = store.retained_document(down(dev, Down.DESIRED))
        assert payload is not None and store.retained_document(body_topic(sha256)) is None
    finally:
        store.close()
    ref = DesiredDocument.from_bytes(Envelope.from_bytes(payload).body()).catalog
    assert ref is not None and ref.url == f"https://central.city.example:8443/v1/catalogs/{sha256}"
    assert ref.length == big.stat().st_size > MQTT_BODY_BYTES

    newer = json.loads(big.read_bytes())
    newer["version"] = 92
    del newer["procedures"]["procedures"][-1]
    nxt = tmp_path / "next.json"
    nxt.write_text(json.dumps(newer, ensure_ascii=False))
    diff = run("catalog", "diff", str(nxt), "--config", str(config), "--json")
    assert diff.returncode == 0, diff.stderr
    changes = json.loads(diff.stdout)
    assert changes["old_version"] == 91 and changes["counts"]["procedures"]["removed"] == 1


def test_build_release_refuses_a_large_catalog_without_an_https_address(signing_keys: SigningKeys) -> None:
    """A catalog over one MQTT message cannot be signed for MQTT: the error names the setting to add."""
    with pytest.raises(UserError, match="download_url"):
        build_release(large_catalog(93), signing_keys.catalog_key())
    assert build_release(catalog_body(93), signing_keys.catalog_key()).over_mqtt  # the sample still fits


def test_the_endpoint_serves_catalog_bodies_to_device_certificates_only(
    fleet_pki: Pki, endpoint: Endpoint, tmp_path: Path
) -> None:
    """GIVEN a stored body THEN a device certificate gets exactly its bytes; no certificate, or an unknown hash,
    is refused with the reason."""
    body = large_catalog(94)
    sha256 = CatalogBodies.in_data_dir(endpoint.data).add(body)
    ident = device_identity(fleet_pki, new_device_id(), tmp_path / "id")
    url = f"{endpoint.url}/v1/catalogs/{sha256}"
    assert _get(url, fleet_pki, (ident.cert_file, ident.key_file)) == (200, body)
    code, answer = _get(url, fleet_pki, None)
    assert code == 403 and json.loads(answer)["code"] == "certificate-required"
    code, answer = _get(
        f"{endpoint.url}/v1/catalogs/{'0' * 64}", fleet_pki, (ident.cert_file, ident.key_file)
    )
    assert code == 404 and json.loads(answer)["code"] == "catalog-unknown"


def test_the_web_publishes_a_large_draft_for_the_https_download_and_compares_the_next_one_with_it(
    web_client: TestClient,
    web_context: WebContext,
    ingest: Ingest,
    mosquitto: MosquittoBroker,
    central_store: FleetStore,
    signing_keys: SigningKeys,
    tmp_path: Path,
) -> None:
    """GIVEN a kiosk of the sample's city WHEN an operator publishes a 380 KB draft from the guide preview page
    without a download address THEN the page says which setting is missing; WITH one THEN the body is kept for
    the enrolment endpoint, the kiosk is told its HTTPS url, and the next upload is compared with it."""
    bodies = CatalogBodies(tmp_path / "catalogs")
    web_context.actions = FleetActions(
        BrokerConfig(url=mosquitto.url), signing_keys.dir, central_store, bodies=bodies
    )
    device = new_device_id()
    big = large_catalog(95)
    with trusting_agent(mosquitto, signing_keys, tmp_path / "kiosk", device):
        wait_for_device(central_store, device, lambda r: r.status is DeviceStatus.ONLINE)
    client = signed_in(web_client, *make_user(web_context, Role.OPERATOR))

    def publish() -> Any:
        page = client.get("/catalog").text
        draft = client.post("/catalog/draft", data={"csrf_token": csrf_of(page)},
                            files={"file": ("big.json", big, "application/json")}, follow_redirects=True)  # fmt: skip
        assert draft.status_code == 200, draft.text[:500]
        action = re.search(r'<form method="post" action="([^"]+)" id="draft-publish">', draft.text)
        assert action is not None
        return client.post(action.group(1), data={"csrf_token": csrf_of(draft.text), "confirm": "yes"},
                           follow_redirects=True)  # fmt: skip

    refused = publish()
    assert refused.status_code == 409 and "download_url" in refused.text
    web_context.actions.download_url = "https://central.city.example:8443"
    done = publish()
    assert done.status_code == 200 and 'id="draft-published"' in done.text
    sha256 = hashlib.sha256(big).hexdigest()
    assert bodies.read(sha256) == big
    payload = central_store.retained_document(down(device, Down.DESIRED))
    assert payload is not None
    ref = DesiredDocument.from_bytes(Envelope.from_bytes(payload).body()).catalog
    assert ref is not None and ref.url == f"https://central.city.example:8443/v1/catalogs/{sha256}"

    newer = json.loads(big) | {"version": 96}
    page = client.get("/catalog").text
    third = client.post("/catalog/draft", data={"csrf_token": csrf_of(page)},
                        files={"file": ("next.json", json.dumps(newer, ensure_ascii=False).encode(), "application/json")},
                        follow_redirects=True)  # fmt: skip
    assert "Compared with version 95, the last one published to kiosks." in third.text
