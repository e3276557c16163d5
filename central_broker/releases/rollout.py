"""A staged app release rollout through each kiosk's retained `down/desired` (same stages as catalogs).

`start` verifies the signed bundle, stores it by hash for the enrolment endpoint to serve over mutual
TLS, and publishes `release: {version, sha256, length, url}` in the desired documents of the first
stage only (each kiosk keeps the catalog its document already named). A kiosk downloads, verifies,
installs side by side, switches and gates on its health; it reports each step on `up/ack`
(kind `release`, ref `release-<version>`). A kiosk counts as current once it acks APPLIED (its health
gate passed) or reports the version (or a higher one) in its birth, as failed when it acked FAILED, REJECTED or ROLLED_BACK. Kiosks refuse
versions not above the highest they ever committed, so undoing a release means publishing the old
content as a new, higher version.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Column, Row, String, Text, select

from central_broker.catalog_push import SigningKeys, publish_documents
from central_broker.catalog_push.desired import desired_messages
from central_broker.catalog_push.documents import MANIFEST_LIFETIME_S
from central_broker.catalog_push.publisher import Outgoing, fleet_keys_payload, record_signing
from central_broker.releases.files import ReleaseFiles
from central_broker.rollout.staged import (
    DeviceState,
    RolloutError,
    RolloutStatus,
    StagedRollout,
    rollout_tables,
)
from central_broker.store import AckRecord, FleetStore
from central_broker.store.schema import kiosk_state, metadata
from central_broker.store.telemetry_schema import kiosk_ack
from madoguchi.config.broker import BrokerConfig
from madoguchi.contracts.signed import ReleaseRef
from madoguchi.contracts.topics import FLEET_KEYS
from madoguchi.enrolment import RELEASES_PATH
from provisioning.updates.bundle import version_key

__all__ = ["FAILED_ACKS", "ReleaseRollout", "release_failures", "release_ref_name", "version_sort"]

_logger = logging.getLogger(__name__)

FAILED_ACKS = ("FAILED", "REJECTED", "ROLLED_BACK")

release_rollout, release_rollout_device = rollout_tables(
    metadata, "release", String(32), Column("url", Text, nullable=False, default="")
)


def release_ref_name(version: str) -> str:
    """The `up/ack` reference of a release update."""
    return f"release-{version}"


class ReleaseRollout(StagedRollout):
    """Staged app release rollouts, published as the catalog service (which signs `down/desired`)."""

    kind = "release"
    rollouts = release_rollout
    members = release_rollout_device

    def __init__(
        self, store: FleetStore, broker: BrokerConfig, keys: SigningKeys, files: ReleaseFiles
    ) -> None:
        super().__init__(store, broker)
        self.keys = keys
        self.files = files

    def start(
        self,
        bundle: Path,
        release_keys: dict[str, Ed25519PublicKey],
        url_base: str,
        devices: Sequence[str],
        *,
        test_device: str | None = None,
        pilot_municipality: str | None = None,
        percents: Sequence[int] = (10, 50, 100),
        max_failure_rate: float = 0.1,
    ) -> RolloutStatus:
        """Verify and store the bundle, plan the stages, publish the first stage's desired documents.

        Raises:
            UserError: the bundle is unsigned, tampered or signed by a key the kiosks do not trust.
            RolloutError: another release rollout is open, no kiosks, or a bad stage plan.
        """
        if not url_base.startswith("https://"):
            raise RolloutError(
                f"--url {url_base!r} must be the https:// address kiosks use for the enrolment endpoint "
                "(kiosk-central enrol-serve), e.g. https://central.example.lg.jp:8443"
            )
        stored = self.files.add(bundle, release_keys)
        version = stored.manifest.version
        latest = self.latest()
        if (
            latest is not None
            and latest.state == "done"
            and version_key(version) <= version_key(str(latest.version))
        ):
            raise RolloutError(
                f"release {version} is not above {latest.version}, which was already rolled out; kiosks refuse "
                "lower versions — publish the old content as a new, higher version"
            )
        url = f"{url_base.rstrip('/')}{RELEASES_PATH}/{stored.sha256}"
        rollout_id, stages = self._begin(
            version, stored.sha256, stored.length, devices, test_device=test_device,
            pilot_municipality=pilot_municipality, percents=percents, max_failure_rate=max_failure_rate,
        )  # fmt: skip
        self._set(rollout_id, url=url)
        row = self._latest_row()
        assert row is not None
        self._publish_stage(row, stages[0].devices, with_keys=True)
        _logger.info("rollout %d of app release %s started: %d stages", rollout_id, version, len(stages))
        return self.status()

    def _publish_stage(self, row: Row[Any], devices: Sequence[str], with_keys: bool = False) -> None:
        ref = ReleaseRef(version=row.version, sha256=row.sha256, length=row.length, url=row.url)
        expires = int((time.time() + MANIFEST_LIFETIME_S) * 1000)
        desired = desired_messages(self.store, devices, self.keys.catalog_key(), expires, release=ref)
        messages: list[Outgoing] = []
        keys_envelope = None
        if with_keys:
            keys_payload, keys_envelope = fleet_keys_payload(self.keys, self.store)
            messages.append(Outgoing(FLEET_KEYS, keys_payload))
        messages += [Outgoing(t, p) for t, p in desired.items()]
        publish_documents(self.broker, messages, store=self.store)
        self.store.record_release_desired(devices, ref)
        record_signing(self.store, None, keys_envelope)

    @classmethod
    def _device_states(cls, store: FleetStore, row: Row[Any]) -> Mapping[str, DeviceState]:
        target = version_key(row.version)
        acks = select(kiosk_ack.c.device_id, kiosk_ack.c.status).where(
            kiosk_ack.c.kind == "release", kiosk_ack.c.ref == release_ref_name(row.version)
        )
        with store.engine.connect() as conn:
            last_ack = {dev: status for dev, status in conn.execute(acks.order_by(kiosk_ack.c.id))}
            running = {
                dev: ver for dev, ver in conn.execute(select(kiosk_state.c.device_id, kiosk_state.c.app_ver))
            }
        states: dict[str, DeviceState] = {}
        for device_id in set(last_ack) | set(running):
            version = running.get(device_id) or ""
            if last_ack.get(device_id) in FAILED_ACKS:
                states[device_id] = "failed"
            elif last_ack.get(device_id) == "APPLIED" or (
                _parses(version) and version_key(version) >= target
            ):
                states[device_id] = "current"
        return states


def release_failures(store: FleetStore, status: RolloutStatus | None) -> list[AckRecord]:
    """The latest failed step of each kiosk that failed the rollout's release (for the fleet view)."""
    if status is None:
        return []
    latest: dict[str, AckRecord] = {}
    for ack in store.acks(ref=release_ref_name(str(status.version))):
        latest[ack.device_id] = ack
    return [a for a in latest.values() if a.status in FAILED_ACKS]


def version_sort(version: str | None) -> tuple[int, ...]:
    """Sort key for app versions; anything not MAJOR.MINOR.PATCH sorts first."""
    return version_key(version) if version and _parses(version) else ()


def _parses(version: str) -> bool:
    parts = version.split(".")
    return len(parts) == 3 and all(p.isdigit() for p in parts)
