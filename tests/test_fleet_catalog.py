"""Signed catalog push end to end: centre publishes, kiosk verifies, swaps atomically, reports.

Refused updates (forged signature, rollback, expired, wrong hash, truncated body, forged keys)
each leave the last good catalog running and raise an alert the centre sees.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from central_broker.broker import MosquittoBroker
from central_broker.catalog_push import SigningKeys, body_topic, build_release
from central_broker.catalog_push.desired import desired_messages
from central_broker.catalog_push.publisher import Outgoing
from central_broker.ingest import Ingest
from central_broker.store import FleetStore, RolloutRecord
from madoguchi.contracts.signed import DesiredDocument, KeysDocument, PayloadType, sign
from madoguchi.contracts.topics import FLEET_KEYS
from tests.fixtures.fleet import new_device_id, wait_for
from tests.fixtures.fleet_signing import catalog_body, publish, trusting_agent

pytestmark = pytest.mark.mosquitto


def _statuses(store: FleetStore, dev: str, ref: str) -> list[str]:
    return [a.status for a in store.acks(dev, ref)]


def _release_messages(
    keys: SigningKeys, dev: str, version: int, **kwargs: float
) -> tuple[str, list[Outgoing]]:
    return _signed_release_messages(keys.catalog_key(), keys, dev, version, **kwargs)


def _signed_release_messages(
    key: Ed25519PrivateKey, keys: SigningKeys, dev: str, version: int, **kwargs: float
) -> tuple[str, list[Outgoing]]:
    """Keys, body and `dev`'s desired document for catalog `version`, signed with `key`."""
    release = build_release(catalog_body(version), key, **kwargs)
    document = DesiredDocument.from_bytes(release.desired.body())
    desired = desired_messages(None, [dev], key, document.expires, catalog=document.catalog)
    return release.sha256, [
        Outgoing(FLEET_KEYS, keys.keys_document().to_bytes()),
        Outgoing(body_topic(release.sha256), release.body),
        *(Outgoing(topic, payload) for topic, payload in desired.items()),
    ]


def test_signed_catalog_is_verified_swapped_in_and_reported(
    ingest: Ingest,
    central_store: FleetStore,
    mosquitto: MosquittoBroker,
    signing_keys: SigningKeys,
    tmp_path: Path,
) -> None:
    """GIVEN a kiosk trusting the fleet root WHEN the centre publishes catalog v5 for it THEN the kiosk
    reports QUEUED → DOWNLOADING → VERIFIED → APPLIED, runs it from the `current` symlink, and the
    centre's rollout view shows it current."""
    dev = new_device_id()
    with trusting_agent(mosquitto, signing_keys, tmp_path / "k", dev) as (_agent, services):
        sha, messages = _release_messages(signing_keys, dev, 5)
        central_store.record_desired([dev], 5, sha)
        publish(mosquitto, *messages)
        wait_for(lambda: "APPLIED" in _statuses(central_store, dev, "catalog-v5"), "APPLIED")
        assert _statuses(central_store, dev, "catalog-v5") == ["QUEUED", "DOWNLOADING", "VERIFIED", "APPLIED"]
        current = services.catalogs.current()
        assert current is not None and current.version == 5
        assert hashlib.sha256(current.path.read_bytes()).hexdigest() == sha
        assert (tmp_path / "k" / "catalog" / "current").is_symlink()

        def rollout_row() -> RolloutRecord | None:
            return next((r for r in central_store.rollout() if r.device_id == dev), None)

        wait_for(lambda: (row := rollout_row()) is not None and row.state == "current", "rollout current")
        row = rollout_row()
        assert row is not None
        assert (row.desired_version, row.reported_version, row.last_status) == (5, 5, "APPLIED")


def test_bad_updates_are_refused_keeping_the_last_good_catalog_and_raising_an_alert(
    ingest: Ingest,
    central_store: FleetStore,
    mosquitto: MosquittoBroker,
    signing_keys: SigningKeys,
    tmp_path: Path,
) -> None:
    """GIVEN a kiosk running catalog v10 WHEN the centre (or an attacker) sends a forged signature, a
    rolled-back v9, an expired v12, a body with the wrong hash (v13), a truncated body (v14) and a
    forged keys document THEN each is refused with the reason on up/ack, v10 keeps running
    byte-for-byte, and the catalog alert is open at the centre; a good v15 then applies and clears it."""
    dev = new_device_id()
    with trusting_agent(mosquitto, signing_keys, tmp_path / "k", dev) as (_agent, services):
        good_sha, messages = _release_messages(signing_keys, dev, 10)
        publish(mosquitto, *messages)
        wait_for(lambda: "APPLIED" in _statuses(central_store, dev, "catalog-v10"), "v10 applied")
        running = services.catalogs.current()
        assert running is not None
        good_bytes = running.path.read_bytes()

        def refused(ref: str, status: str, reason: str) -> None:
            wait_for(lambda: status in _statuses(central_store, dev, ref), f"{ref} {status}")
            ack = [a for a in central_store.acks(dev, ref) if a.status == status][-1]
            assert reason in ack.detail and "keeping catalog version 10" in ack.detail
            current = services.catalogs.current()
            assert current is not None and current.version == 10 and current.path.read_bytes() == good_bytes
            wait_for(lambda: any(a.alert_id == "catalog-update" for a in central_store.alerts(device_id=dev)),
                     "catalog alert at the centre")  # fmt: skip

        _, forged = _signed_release_messages(Ed25519PrivateKey.generate(), signing_keys, dev, 11)
        publish(mosquitto, *forged[1:])
        refused("unknown", "REJECTED", "no valid signature by a current key")

        _, messages = _release_messages(signing_keys, dev, 9)
        publish(mosquitto, *messages)
        refused("catalog-v9", "REJECTED", "rollback refused")

        _, messages = _release_messages(signing_keys, dev, 12, now=time.time() - 30 * 86_400)
        publish(mosquitto, *messages)
        refused("catalog-v12", "REJECTED", "expired")

        sha13, messages = _release_messages(signing_keys, dev, 13)
        body = catalog_body(13)
        messages[1] = Outgoing(body_topic(sha13), body.replace(b'"version": 13', b'"version": 31'))
        publish(mosquitto, *messages)
        refused("catalog-v13", "FAILED", "does not match the signed hash")

        sha14, messages = _release_messages(signing_keys, dev, 14)
        messages[1] = Outgoing(body_topic(sha14), catalog_body(14)[:-100])
        publish(mosquitto, *messages)
        refused("catalog-v14", "FAILED", "truncated")

        rogue = Ed25519PrivateKey.generate()
        fake_keys = KeysDocument(version=2**40, expires=int(time.time() * 1000) + 10**9, keys=[])
        publish(
            mosquitto, Outgoing(FLEET_KEYS, sign(PayloadType.KEYS, fake_keys.to_bytes(), rogue).to_bytes())
        )
        wait_for(lambda: any(a.alert_id == "fleet-keys" for a in central_store.alerts(device_id=dev)),
                 "fleet-keys alert")  # fmt: skip
        assert services.trust.keys("catalog"), "the forged keys document replaced the trusted keys"

        _, messages = _release_messages(signing_keys, dev, 15)
        publish(mosquitto, *messages)
        wait_for(lambda: "APPLIED" in _statuses(central_store, dev, "catalog-v15"), "v15 applied")
        wait_for(lambda: not any(a.alert_id == "catalog-update" for a in central_store.alerts(device_id=dev)),
                 "catalog alert cleared")  # fmt: skip
    assert good_sha != services.catalogs.current().sha256  # type: ignore[union-attr]


def test_catalog_waits_for_an_idle_kiosk(
    mosquitto: MosquittoBroker, signing_keys: SigningKeys, tmp_path: Path
) -> None:
    """GIVEN a kiosk serving a resident WHEN a verified catalog arrives THEN it waits (WAITING_IDLE) and
    is swapped in only once the kiosk is idle."""
    busy = [True]
    dev = new_device_id()
    with trusting_agent(mosquitto, signing_keys, tmp_path / "k", dev, idle=lambda: not busy[0]) as (
        _a,
        services,
    ):
        _, messages = _release_messages(signing_keys, dev, 7)
        publish(mosquitto, *messages)
        wait_for(lambda: services.updater._verified is not None, "verified and waiting")
        time.sleep(0.3)
        assert services.catalogs.current() is None
        busy[0] = False
        wait_for(lambda: services.catalogs.version() == 7, "applied once idle")
