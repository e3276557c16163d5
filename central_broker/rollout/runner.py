"""A staged catalog rollout: publish stage by stage through each kiosk's retained `down/desired`.

`start` validates and signs the catalog, publishes keys, body and manifest, and the desired document
of the first stage's kiosks only. `advance` publishes the next stage once every kiosk of the current
one has applied or failed. `check` halts the rollout when the failure rate of the current stage is
over the limit (kiosks that failed keep their last good catalog; nothing more is published). An
operator may `pause`, `resume` or `halt` at any time. Kiosks refuse lower versions, so a "rollback"
is a new, higher version with the previous content.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import BigInteger, Row, select

from central_broker.catalog_push import SigningKeys, build_release, publish_documents, publish_release
from central_broker.catalog_push.bodies import CatalogBodies
from central_broker.catalog_push.desired import catalog_url, desired_messages, published_urls
from central_broker.catalog_push.documents import MANIFEST_LIFETIME_S
from central_broker.catalog_push.publisher import Outgoing
from central_broker.rollout.staged import (
    DeviceState,
    RolloutError,
    RolloutStatus,
    StagedRollout,
    StageStatus,
    rollout_tables,
)
from central_broker.store import FleetStore
from central_broker.store.schema import metadata
from central_broker.store.telemetry_schema import kiosk_ack
from madoguchi.config.broker import BrokerConfig
from madoguchi.contracts.signed import CatalogRef

__all__ = ["Rollout", "RolloutError", "RolloutStatus", "StageStatus", "read_status"]

_logger = logging.getLogger(__name__)

rollout_table, rollout_device = rollout_tables(metadata, "catalog", BigInteger)


class Rollout(StagedRollout):
    """Staged catalog rollouts over the fleet store, published as the catalog service."""

    kind = "catalog"
    rollouts = rollout_table
    members = rollout_device

    def __init__(
        self,
        store: FleetStore,
        broker: BrokerConfig,
        keys: SigningKeys,
        *,
        download_url: str | None = None,
        bodies: CatalogBodies | None = None,
    ) -> None:
        """`download_url` / `bodies`: the HTTPS address and body folder for catalogs too large for MQTT."""
        super().__init__(store, broker)
        self.keys = keys
        self.download_url = download_url
        self.bodies = bodies

    def start(
        self,
        body: bytes,
        devices: Sequence[str],
        *,
        source: str = "catalog",
        test_device: str | None = None,
        pilot_municipality: str | None = None,
        percents: Sequence[int] = (10, 50, 100),
        max_failure_rate: float = 0.1,
    ) -> RolloutStatus:
        """Plan the stages, publish the catalog and the first stage's desired documents."""
        release = build_release(body, self.keys.catalog_key(), source=source, download_url=self.download_url)
        rollout_id, stages = self._begin(
            release.version, release.sha256, len(release.body), devices, test_device=test_device,
            pilot_municipality=pilot_municipality, percents=percents, max_failure_rate=max_failure_rate,
        )  # fmt: skip
        publish_release(self.broker, self.keys, release, stages[0].devices, self.store, self.bodies)
        _logger.info(
            "rollout %d of catalog version %d started: %d stages", rollout_id, release.version, len(stages)
        )
        return self.status()

    def _publish_stage(self, row: Row[Any], devices: Sequence[str]) -> None:
        url = catalog_url(published_urls(self.store), row.sha256, row.length)
        if url is None:
            raise RolloutError(
                f"the download url of catalog version {row.version} is no longer known: "
                "start the rollout again with `kiosk-central rollout start`"
            )
        ref = CatalogRef(version=row.version, sha256=row.sha256, length=row.length, url=url)
        expires = int((time.time() + MANIFEST_LIFETIME_S) * 1000)
        desired = desired_messages(self.store, devices, self.keys.catalog_key(), expires, catalog=ref)
        publish_documents(
            self.broker, [Outgoing(topic, payload) for topic, payload in desired.items()], store=self.store
        )
        self.store.record_desired(list(devices), row.version, row.sha256)

    @classmethod
    def _device_states(cls, store: FleetStore, row: Row[Any]) -> Mapping[str, DeviceState]:
        reported = {r.device_id: r.reported_version for r in store.rollout()}
        acks = select(kiosk_ack.c.device_id, kiosk_ack.c.status).where(
            kiosk_ack.c.kind == "catalog", kiosk_ack.c.ref == f"catalog-v{row.version}"
        )
        with store.engine.connect() as conn:
            last_ack = {dev: status for dev, status in conn.execute(acks.order_by(kiosk_ack.c.id))}
        states: dict[str, DeviceState] = {}
        for device_id in set(reported) | set(last_ack):
            if last_ack.get(device_id) in ("REJECTED", "FAILED"):
                states[device_id] = "failed"  # refused or failed this version (kept its last good catalog)
            elif (reported.get(device_id) or 0) >= row.version:
                states[device_id] = "current"
        return states


def read_status(store: FleetStore) -> RolloutStatus | None:
    """The latest catalog rollout with per-stage progress, or None before the first (no keys needed)."""
    return Rollout.read_status(store)
