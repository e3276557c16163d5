"""Retained fleet documents are re-signed before they expire, so late kiosks can still install them.

A catalog's `down/desired` expires 14 days after signing. Without re-signing, a kiosk that was off
for two weeks (or a replacement kiosk) would refuse the catalog its retained desired names; with it,
the same release is signed again with a later expiry and kiosks already running it do nothing.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from central_broker.broker import MosquittoBroker
from central_broker.catalog_push import SigningKeys, build_release, publish_release
from central_broker.catalog_push.refresh import refresh_documents
from central_broker.ingest import Ingest
from central_broker.store import FleetStore
from central_broker.store.signed_docs import KEYS_DOCUMENT, SignedRecord
from madoguchi.config.broker import BrokerConfig
from madoguchi.config.central import local_central_config
from madoguchi.contracts.signed import DesiredDocument, Envelope
from madoguchi.contracts.topics import Down, down
from tests.fixtures.fleet import new_device_id, wait_for
from tests.fixtures.fleet_signing import catalog_body, trusting_agent

pytestmark = pytest.mark.mosquitto

DAY = 86_400.0


def _broker(mosquitto: MosquittoBroker) -> BrokerConfig:
    return local_central_config(Path("/nonexistent-unused"), mosquitto.url).broker


def _statuses(store: FleetStore, dev: str, ref: str) -> list[str]:
    return [a.status for a in store.acks(dev, ref)]


def _retained_desired(mosquitto: MosquittoBroker, dev: str) -> DesiredDocument:
    out = subprocess.run(
        ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(mosquitto.port), "-C", "1", "-W", "5", "-N",
         "-t", down(dev, Down.DESIRED)],
        capture_output=True, check=True, timeout=10,
    )  # fmt: skip
    return DesiredDocument.from_bytes(Envelope.from_bytes(out.stdout).body())


def test_an_expired_desired_document_is_re_signed_and_the_late_kiosk_installs_it(
    ingest: Ingest,
    central_store: FleetStore,
    mosquitto: MosquittoBroker,
    signing_keys: SigningKeys,
    tmp_path: Path,
) -> None:
    """GIVEN catalog v21 published 15 days ago (its desired document has expired) WHEN a kiosk that was
    off all that time connects THEN it refuses the expired document; after one refresh pass the centre
    has signed v21 again and the same kiosk installs it; a second pass right after re-signs nothing."""
    dev = new_device_id()
    release = build_release(catalog_body(21), signing_keys.catalog_key(), now=time.time() - 15 * DAY)
    publish_release(_broker(mosquitto), signing_keys, release, [dev], central_store)
    with trusting_agent(mosquitto, signing_keys, tmp_path / "k", dev) as (_agent, services):
        wait_for(lambda: "REJECTED" in _statuses(central_store, dev, "catalog-v21"), "expired refusal")
        assert services.catalogs.current() is None

        report = refresh_documents(_broker(mosquitto), signing_keys, central_store)

        assert report.catalogs == (21,) and report.desired == 1
        wait_for(lambda: "APPLIED" in _statuses(central_store, dev, "catalog-v21"), "v21 applied")
        current = services.catalogs.current()
        assert current is not None and current.version == 21
        assert refresh_documents(_broker(mosquitto), signing_keys, central_store).catalogs == ()


def test_re_signing_a_running_version_changes_only_the_expiry_and_does_not_reinstall(
    ingest: Ingest,
    central_store: FleetStore,
    mosquitto: MosquittoBroker,
    signing_keys: SigningKeys,
    tmp_path: Path,
) -> None:
    """GIVEN a kiosk running catalog v30 signed 8 days ago (past half its 14 days) WHEN the refresh pass
    runs THEN the retained desired document names the same version and hash with an expiry 14 days from
    now, and the kiosk reports no second install."""
    dev = new_device_id()
    release = build_release(catalog_body(30), signing_keys.catalog_key(), now=time.time() - 8 * DAY)
    publish_release(_broker(mosquitto), signing_keys, release, [dev], central_store)
    with trusting_agent(mosquitto, signing_keys, tmp_path / "k", dev) as (_agent, services):
        wait_for(lambda: "APPLIED" in _statuses(central_store, dev, "catalog-v30"), "v30 applied")
        before = _retained_desired(mosquitto, dev)
        installed_at = services.catalogs.current()

        report = refresh_documents(_broker(mosquitto), signing_keys, central_store)

        assert report.catalogs == (30,)
        after = _retained_desired(mosquitto, dev)
        assert after.catalog == before.catalog
        assert after.expires > time.time() * 1000 + 13 * DAY * 1000 > before.expires
        time.sleep(1.0)  # give the kiosk time to (wrongly) start a second install
        assert _statuses(central_store, dev, "catalog-v30").count("APPLIED") == 1
        assert services.catalogs.current() == installed_at


def test_fleet_keys_are_re_signed_with_a_higher_version_or_a_warning_when_the_root_key_is_offline(
    ingest: Ingest,
    central_store: FleetStore,
    mosquitto: MosquittoBroker,
    signing_keys: SigningKeys,
    tmp_path: Path,
) -> None:
    """GIVEN fleet/keys signed 200 days ago WHEN the refresh pass runs with the root key at hand THEN a
    higher keys version is published and a kiosk accepts it; GIVEN keys 340 days old and the root key
    kept elsewhere THEN nothing is published and a warning names the expiry and the command to run."""
    dev = new_device_id()
    now_ms = int(time.time() * 1000)
    with trusting_agent(mosquitto, signing_keys, tmp_path / "k", dev) as (_agent, services):
        central_store.record_signed(
            SignedRecord(
                KEYS_DOCUMENT, 7, None, None, now_ms - int(200 * DAY * 1000), now_ms + int(165 * DAY) * 1000
            )
        )
        report = refresh_documents(_broker(mosquitto), signing_keys, central_store)
        assert report.keys_version is not None and report.keys_version > 7
        wait_for(lambda: services.trust.version == report.keys_version, "kiosk accepts the new keys")

        offline = SigningKeys(signing_keys.dir, root_key=tmp_path / "elsewhere" / "root.key")
        central_store.record_signed(
            SignedRecord(
                KEYS_DOCUMENT, 8, None, None, now_ms - int(340 * DAY * 1000), now_ms + int(25 * DAY) * 1000
            )
        )
        report = refresh_documents(_broker(mosquitto), offline, central_store)
        assert report.keys_version is None
        assert len(report.warnings) == 1
        assert "expires" in report.warnings[0] and "--root-key" in report.warnings[0]
