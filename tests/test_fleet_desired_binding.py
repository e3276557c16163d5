"""A `down/desired` document is bound to one kiosk, and a catalog to one municipality (issue 21, item 7).

Through real Mosquitto: a validly signed document copied from another kiosk's topic, one naming no
kiosk, and a validly signed catalog of another city are each refused, the running catalog kept and
the `catalog-update` alert raised; what the centre publishes for each kiosk still applies.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from central_broker.broker import MosquittoBroker
from central_broker.catalog_push import SigningKeys, body_topic, build_release, publish_release
from central_broker.catalog_push.desired import desired_messages
from central_broker.catalog_push.documents import CatalogRelease
from central_broker.catalog_push.publisher import Outgoing
from central_broker.ingest import Ingest
from central_broker.store import FleetStore
from kiosk_app.agent.fleet_services import FleetServices
from madoguchi.config.central import local_central_config
from madoguchi.contracts.base import municipality_of
from madoguchi.contracts.signed import CatalogRef, DesiredDocument, PayloadType, ReleaseRef, sign
from madoguchi.contracts.topics import FLEET_KEYS, Down, down
from tests.fixtures.fleet import new_device_id, wait_for
from tests.fixtures.fleet_signing import catalog_body, publish, trusting_agent

pytestmark = pytest.mark.mosquitto

OTHER_CITY = "131016"


def _release(keys: SigningKeys, version: int, municipality: str) -> CatalogRelease:
    """Catalog `version` of `municipality`, validly signed by the fleet's catalog key."""
    data = json.loads(catalog_body(version))
    data["municipality"]["code"] = municipality
    body = json.dumps(data, ensure_ascii=False, separators=(",", ": ")).encode()
    return build_release(body, keys.catalog_key())


def _ref(release: CatalogRelease) -> CatalogRef:
    return CatalogRef(version=release.version, sha256=release.sha256, length=len(release.body),
                      url=f"mqtt:{body_topic(release.sha256)}")  # fmt: skip


def _expires() -> int:
    return int((time.time() + 3600) * 1000)


def _city(dev: str) -> str:
    city = municipality_of(dev)
    assert city is not None
    return city


def _statuses(store: FleetStore, dev: str, ref: str) -> list[str]:
    return [a.status for a in store.acks(dev, ref)]


def _detail(store: FleetStore, dev: str, ref: str, status: str) -> str:
    return [a.detail for a in store.acks(dev, ref) if a.status == status][-1]


def _catalog_alert(store: FleetStore, dev: str) -> bool:
    return any(a.alert_id == "catalog-update" for a in store.alerts(device_id=dev))


def _run_catalog(
    mosquitto: MosquittoBroker,
    keys: SigningKeys,
    store: FleetStore,
    services: FleetServices,
    dev: str,
    version: int,
) -> bytes:
    """Install catalog `version` of the kiosk's own city the normal way; its bytes."""
    release = _release(keys, version, _city(dev))
    publish(mosquitto, Outgoing(FLEET_KEYS, keys.keys_document().to_bytes()),
            Outgoing(body_topic(release.sha256), release.body),
            *(Outgoing(t, p) for t, p in desired_messages(None, [dev], keys.catalog_key(), _expires(),
                                                           catalog=_ref(release)).items()))  # fmt: skip
    wait_for(lambda: "APPLIED" in _statuses(store, dev, f"catalog-v{version}"), f"v{version} applied")
    current = services.catalogs.current()
    assert current is not None and current.version == version
    return current.path.read_bytes()


def test_a_document_copied_from_another_kiosk_is_refused(
    ingest: Ingest,
    central_store: FleetStore,
    mosquitto: MosquittoBroker,
    signing_keys: SigningKeys,
    tmp_path: Path,
) -> None:
    """GIVEN kiosk B running catalog v3 WHEN kiosk A's validly signed desired document (catalog v4 of the
    same city and an app release) is copied onto B's `down/desired` THEN B answers REJECTED naming A,
    keeps v3 byte-for-byte, downloads no release, and the catalog alert is open at the centre."""
    dev_a, dev_b = new_device_id(), new_device_id()
    with trusting_agent(mosquitto, signing_keys, tmp_path / "b", dev_b) as (_agent, services):
        running = _run_catalog(mosquitto, signing_keys, central_store, services, dev_b, 3)
        release = _release(signing_keys, 4, _city(dev_b))
        app = ReleaseRef(
            version="9.9.1", sha256="cd" * 32, length=1000, url="https://central.invalid/v1/releases/x"
        )
        for_a = desired_messages(None, [dev_a], signing_keys.catalog_key(), _expires(),
                                 catalog=_ref(release), release=app)[down(dev_a, Down.DESIRED)]  # fmt: skip

        publish(mosquitto, Outgoing(body_topic(release.sha256), release.body),
                Outgoing(down(dev_b, Down.DESIRED), for_a))  # fmt: skip

        wait_for(
            lambda: "REJECTED" in _statuses(central_store, dev_b, "catalog-v4"), "B refuses A's document"
        )
        detail = _detail(central_store, dev_b, "catalog-v4", "REJECTED")
        assert dev_a in detail and "keeping catalog version 3" in detail
        wait_for(lambda: _catalog_alert(central_store, dev_b), "catalog alert at the centre")
        time.sleep(0.5)  # time for a (wrong) download to start
        assert _statuses(central_store, dev_b, "catalog-v4") == ["REJECTED"]
        current = services.catalogs.current()
        assert current is not None and current.version == 3 and current.path.read_bytes() == running
        assert central_store.acks(dev_b, "release-9.9.1") == [], "the copied release was followed"


def test_a_document_naming_no_kiosk_is_refused(
    ingest: Ingest,
    central_store: FleetStore,
    mosquitto: MosquittoBroker,
    signing_keys: SigningKeys,
    tmp_path: Path,
) -> None:
    """GIVEN a kiosk WHEN a validly signed desired document that names no device arrives (an old centre,
    or a document lifted from somewhere) THEN the kiosk answers REJECTED asking for a centre upgrade,
    installs nothing and raises the catalog alert."""
    dev = new_device_id()
    with trusting_agent(mosquitto, signing_keys, tmp_path / "k", dev) as (_agent, services):
        release = _release(signing_keys, 5, _city(dev))
        unbound = DesiredDocument(catalog=_ref(release), expires=_expires())
        envelope = sign(PayloadType.DESIRED, unbound.to_bytes(), signing_keys.catalog_key())

        publish(mosquitto, Outgoing(FLEET_KEYS, signing_keys.keys_document().to_bytes()),
                Outgoing(body_topic(release.sha256), release.body),
                Outgoing(down(dev, Down.DESIRED), envelope.to_bytes()))  # fmt: skip

        wait_for(lambda: "REJECTED" in _statuses(central_store, dev, "catalog-v5"), "REJECTED")
        assert "names no device" in _detail(central_store, dev, "catalog-v5", "REJECTED")
        wait_for(lambda: _catalog_alert(central_store, dev), "catalog alert at the centre")
        time.sleep(0.5)
        assert _statuses(central_store, dev, "catalog-v5") == ["REJECTED"]
        assert services.catalogs.current() is None


def test_a_catalog_of_another_municipality_fails_keeping_the_running_one(
    ingest: Ingest,
    central_store: FleetStore,
    mosquitto: MosquittoBroker,
    signing_keys: SigningKeys,
    tmp_path: Path,
) -> None:
    """GIVEN a kiosk running its city's catalog v6 WHEN a desired document correctly addressed to it names
    another city's validly signed catalog v7 THEN the kiosk reports FAILED naming both cities, keeps v6
    byte-for-byte and raises the catalog alert; its own city's v8 then applies and clears the alert."""
    dev = new_device_id()
    assert _city(dev) != OTHER_CITY
    with trusting_agent(mosquitto, signing_keys, tmp_path / "k", dev) as (_agent, services):
        running = _run_catalog(mosquitto, signing_keys, central_store, services, dev, 6)
        foreign = _release(signing_keys, 7, OTHER_CITY)
        desired = desired_messages(None, [dev], signing_keys.catalog_key(), _expires(), catalog=_ref(foreign))

        publish(mosquitto, Outgoing(body_topic(foreign.sha256), foreign.body),
                *(Outgoing(t, p) for t, p in desired.items()))  # fmt: skip

        wait_for(lambda: "FAILED" in _statuses(central_store, dev, "catalog-v7"), "FAILED")
        detail = _detail(central_store, dev, "catalog-v7", "FAILED")
        assert OTHER_CITY in detail and _city(dev) in detail and "keeping catalog version 6" in detail
        assert "APPLIED" not in _statuses(central_store, dev, "catalog-v7")
        wait_for(lambda: _catalog_alert(central_store, dev), "catalog alert at the centre")
        current = services.catalogs.current()
        assert current is not None and current.version == 6 and current.path.read_bytes() == running

        _run_catalog(mosquitto, signing_keys, central_store, services, dev, 8)
        wait_for(lambda: not _catalog_alert(central_store, dev), "catalog alert cleared")


def test_the_centre_addresses_each_kiosk_its_own_document(
    ingest: Ingest,
    central_store: FleetStore,
    mosquitto: MosquittoBroker,
    signing_keys: SigningKeys,
    tmp_path: Path,
) -> None:
    """GIVEN two kiosks of the same city WHEN the centre publishes one catalog to both THEN each applies
    it (each got a document addressed to itself)."""
    dev_a, dev_b = new_device_id(), new_device_id()
    broker = local_central_config(Path("/nonexistent-unused"), mosquitto.url).broker
    with (
        trusting_agent(mosquitto, signing_keys, tmp_path / "a", dev_a) as (_a, services_a),
        trusting_agent(mosquitto, signing_keys, tmp_path / "b", dev_b) as (_b, services_b),
    ):
        release = _release(signing_keys, 9, _city(dev_a))
        publish_release(broker, signing_keys, release, [dev_a, dev_b], central_store)
        wait_for(lambda: "APPLIED" in _statuses(central_store, dev_a, "catalog-v9"), "A applied")
        wait_for(lambda: "APPLIED" in _statuses(central_store, dev_b, "catalog-v9"), "B applied")
        assert services_a.catalogs.version() == 9 and services_b.catalogs.version() == 9
