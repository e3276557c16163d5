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
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import BigInteger, Column, Float, Integer, Row, String, Table, Text, insert, select, update

from central_broker.catalog_push import SigningKeys, build_release, publish_documents, publish_release
from central_broker.catalog_push.documents import MANIFEST_LIFETIME_S, sign_catalog_documents
from central_broker.catalog_push.publisher import Outgoing
from central_broker.rollout.cohorts import plan_stages
from central_broker.store import FleetStore
from central_broker.store.schema import metadata
from central_broker.store.telemetry_schema import kiosk_ack
from madoguchi.config.broker import BrokerConfig
from madoguchi.contracts.topics import Down, down

__all__ = ["Rollout", "RolloutError", "RolloutStatus", "StageStatus", "read_status"]

_logger = logging.getLogger(__name__)

rollout_table = Table(
    "catalog_rollout",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("length", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),  # running | paused | halted | done
    Column("stage", Integer, nullable=False),  # index of the latest published stage
    Column("max_failure_rate", Float, nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

rollout_device = Table(
    "catalog_rollout_device",
    metadata,
    Column("rollout_id", Integer, primary_key=True),
    Column("device_id", String(64), primary_key=True),
    Column("stage", Integer, nullable=False),
    Column("stage_name", String(64), nullable=False),
)


class RolloutError(Exception):
    """The operation is not possible now; the message says why and what to do."""


@dataclass(frozen=True)
class StageStatus:
    """Progress of one stage."""

    index: int
    name: str
    targets: int
    current: int
    failed: int
    pending: int
    published: bool

    @property
    def failure_rate(self) -> float:
        """Failed kiosks ÷ kiosks in the stage."""
        return self.failed / self.targets if self.targets else 0.0


@dataclass(frozen=True)
class RolloutStatus:
    """The latest rollout and its stages."""

    rollout_id: int
    version: int
    state: str
    stage: int
    max_failure_rate: float
    reason: str
    stages: list[StageStatus] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """For `--json`."""
        return {
            **asdict(self),
            "stages": [{**asdict(s), "failure_rate": s.failure_rate} for s in self.stages],
        }


class Rollout:
    """Staged rollouts over the fleet store, published as the catalog service."""

    def __init__(self, store: FleetStore, broker: BrokerConfig, keys: SigningKeys) -> None:
        self.store = store
        self.broker = broker
        self.keys = keys
        metadata.create_all(store.engine, tables=[rollout_table, rollout_device])

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
        latest = self._latest()
        if latest is not None and latest.state in ("running", "paused"):
            raise RolloutError(
                f"rollout {latest.rollout_id} of version {latest.version} is still {latest.state}; "
                "finish it (advance), or halt it first"
            )
        if not devices:
            raise RolloutError("no kiosk to roll out to: let the kiosks connect once, or name them")
        try:
            stages = plan_stages(
                devices, test_device=test_device, pilot_municipality=pilot_municipality, percents=percents
            )
        except ValueError as exc:
            raise RolloutError(str(exc)) from exc
        release = build_release(body, self.keys.catalog_key(), source=source)
        now = self.store.now_ms()
        with self.store.engine.begin() as conn:
            rollout_id = conn.execute(
                insert(rollout_table).values(
                    version=release.version, sha256=release.sha256, length=len(release.body), state="running",
                    stage=0, max_failure_rate=max_failure_rate, reason="", created_at=now, updated_at=now,
                )
            ).inserted_primary_key[0]  # type: ignore[index]  # fmt: skip
            conn.execute(
                insert(rollout_device),
                [
                    {"rollout_id": rollout_id, "device_id": d, "stage": i, "stage_name": s.name}
                    for i, s in enumerate(stages)
                    for d in s.devices
                ],
            )
        publish_release(self.broker, self.keys, release, stages[0].devices, self.store)
        _logger.info(
            "rollout %d of catalog version %d started: %d stages", rollout_id, release.version, len(stages)
        )
        return self.status()

    def status(self) -> RolloutStatus:
        """The latest rollout with per-stage progress (halting it first if its failure rate is over the limit)."""
        return self.check()

    def check(self) -> RolloutStatus:
        """Halt the running rollout when the current stage fails too often; returns the status."""
        status = self._status()
        if status.state == "running" and status.stages:
            stage = status.stages[status.stage]
            if stage.failure_rate > status.max_failure_rate:
                reason = (
                    f"auto-halt: {stage.failed} of {stage.targets} kiosks in stage '{stage.name}' failed "
                    f"({stage.failure_rate:.0%} > {status.max_failure_rate:.0%})"
                )
                self._set(status.rollout_id, state="halted", reason=reason)
                _logger.warning("rollout %d halted: %s", status.rollout_id, reason)
                status = self._status()
        return status

    def advance(self) -> RolloutStatus:
        """Publish the next stage once the current one is finished (every kiosk applied or failed)."""
        status = self.check()
        if status.state != "running":
            raise RolloutError(
                f"rollout {status.rollout_id} is {status.state}{': ' + status.reason if status.reason else ''}"
            )
        current = status.stages[status.stage]
        if current.pending:
            raise RolloutError(
                f"stage '{current.name}' still has {current.pending} of {current.targets} kiosks pending; "
                "wait for them (kiosks apply catalogs between residents) and try again"
            )
        if status.stage + 1 >= len(status.stages):
            self._set(status.rollout_id, state="done")
            return self._status()
        index = status.stage + 1
        devices = self._devices(status.rollout_id, index)
        latest = self._latest_row()
        assert latest is not None
        _manifest, desired = sign_catalog_documents(
            latest.version,
            latest.sha256,
            latest.length,
            self.keys.catalog_key(),
            time.time(),
            MANIFEST_LIFETIME_S,
        )
        publish_documents(self.broker, [Outgoing(down(d, Down.DESIRED), desired.to_bytes()) for d in devices])
        self.store.record_desired(devices, latest.version, latest.sha256)
        self._set(status.rollout_id, stage=index)
        _logger.info("rollout %d: stage %d published to %d kiosks", status.rollout_id, index, len(devices))
        return self._status()

    def pause(self) -> RolloutStatus:
        """Stop advancing (what is published stays)."""
        return self._transition(("running",), "paused")

    def resume(self) -> RolloutStatus:
        """Allow advancing again."""
        return self._transition(("paused",), "running")

    def halt(self, reason: str = "halted by the operator") -> RolloutStatus:
        """End the rollout where it is."""
        return self._transition(("running", "paused"), "halted", reason)

    # --- store ------------------------------------------------------------------------------------

    def _transition(self, allowed: tuple[str, ...], state: str, reason: str = "") -> RolloutStatus:
        status = self._status()
        if status.state not in allowed:
            raise RolloutError(f"rollout {status.rollout_id} is {status.state}; cannot make it {state}")
        self._set(status.rollout_id, state=state, **({"reason": reason} if reason else {}))
        return self._status()

    def _set(self, rollout_id: int, **values: object) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(
                update(rollout_table)
                .where(rollout_table.c.id == rollout_id)
                .values(updated_at=self.store.now_ms(), **values)
            )

    def _latest_row(self) -> Row[Any] | None:
        query = select(rollout_table).order_by(rollout_table.c.id.desc()).limit(1)
        with self.store.engine.connect() as conn:
            return conn.execute(query).first()

    def _latest(self) -> RolloutStatus | None:
        return self._status() if self._latest_row() is not None else None

    def _devices(self, rollout_id: int, stage: int) -> list[str]:
        query = select(rollout_device.c.device_id).where(
            rollout_device.c.rollout_id == rollout_id, rollout_device.c.stage == stage
        )
        with self.store.engine.connect() as conn:
            return sorted(row[0] for row in conn.execute(query))

    def _status(self) -> RolloutStatus:
        status = read_status(self.store)
        if status is None:
            raise RolloutError("no rollout yet: start one with `kiosk-central rollout start CATALOG`")
        return status


def read_status(store: FleetStore) -> RolloutStatus | None:
    """The latest rollout with per-stage progress, or None before the first (read-only; no keys needed)."""
    metadata.create_all(store.engine, tables=[rollout_table, rollout_device])
    with store.engine.connect() as conn:
        row = conn.execute(select(rollout_table).order_by(rollout_table.c.id.desc()).limit(1)).first()
    if row is None:
        return None
    query = select(rollout_device).where(rollout_device.c.rollout_id == row.id)
    with store.engine.connect() as conn:
        members = list(conn.execute(query))
    reported = {r.device_id: r.reported_version for r in store.rollout()}
    acks = select(kiosk_ack.c.device_id, kiosk_ack.c.status).where(
        kiosk_ack.c.kind == "catalog", kiosk_ack.c.ref == f"catalog-v{row.version}"
    )
    with store.engine.connect() as conn:
        last_ack = {dev: status for dev, status in conn.execute(acks.order_by(kiosk_ack.c.id))}
    names: dict[int, str] = {}
    tallies: dict[int, list[int]] = {}  # stage → [targets, current, failed, pending]
    for member in members:
        names[member.stage] = member.stage_name
        counts = tallies.setdefault(member.stage, [0, 0, 0, 0])
        counts[0] += 1
        if last_ack.get(member.device_id) in ("REJECTED", "FAILED"):
            counts[2] += 1  # refused or failed this version (kept its last good catalog)
        elif (reported.get(member.device_id) or 0) >= row.version:
            counts[1] += 1
        else:
            counts[3] += 1
    views = [
        StageStatus(i, names[i], c[0], c[1], c[2], c[3], published=i <= row.stage)
        for i, c in sorted(tallies.items())
    ]
    return RolloutStatus(row.id, row.version, row.state, row.stage, row.max_failure_rate, row.reason, views)
