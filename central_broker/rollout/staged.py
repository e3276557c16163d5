"""The stage machine shared by catalog and app release rollouts (contract §5).

A rollout plans its stages once (`plan_stages`), records which kiosk is in which stage, publishes
the first stage, and then only moves forward when an operator advances it and every kiosk of the
current stage has either finished or failed. `check` halts it when the current stage's failure rate
is over the limit. What "publish a stage" and "this kiosk is done / failed" mean is the subclass's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Literal

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)

from central_broker.rollout.cohorts import Stage, plan_stages
from central_broker.store import FleetStore
from madoguchi.config.broker import BrokerConfig

__all__ = ["DeviceState", "RolloutError", "RolloutStatus", "StageStatus", "StagedRollout", "rollout_tables"]

_logger = logging.getLogger(__name__)

DeviceState = Literal["current", "failed", "pending"]


def rollout_tables(
    metadata: MetaData, prefix: str, version_type: Any, *extra: Column[Any]
) -> tuple[Table, Table]:
    """The rollout table (with `extra` columns) and its per-kiosk stage table, `<prefix>_rollout[_device]`."""
    rollouts = Table(
        f"{prefix}_rollout",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("version", version_type, nullable=False),
        Column("sha256", String(64), nullable=False),
        Column("length", BigInteger, nullable=False),
        Column("state", String(16), nullable=False),  # running | paused | halted | done
        Column("stage", Integer, nullable=False),  # index of the latest published stage
        Column("max_failure_rate", Float, nullable=False),
        Column("reason", Text, nullable=False, default=""),
        Column("created_at", BigInteger, nullable=False),
        Column("updated_at", BigInteger, nullable=False),
        *extra,
    )
    devices = Table(
        f"{prefix}_rollout_device",
        metadata,
        Column("rollout_id", Integer, primary_key=True),
        Column("device_id", String(64), primary_key=True),
        Column("stage", Integer, nullable=False),
        Column("stage_name", String(64), nullable=False),
    )
    return rollouts, devices


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
    version: int | str
    state: str
    stage: int
    max_failure_rate: float
    reason: str
    stages: list[StageStatus] = field(default_factory=list)
    kind: str = "catalog"

    def to_dict(self) -> dict[str, object]:
        """For `--json`."""
        return {
            **asdict(self),
            "stages": [{**asdict(s), "failure_rate": s.failure_rate} for s in self.stages],
        }


class StagedRollout:
    """Stage bookkeeping over two tables; subclasses publish stages and judge each kiosk."""

    kind: ClassVar[str]
    rollouts: ClassVar[Table]
    members: ClassVar[Table]

    def __init__(self, store: FleetStore, broker: BrokerConfig) -> None:
        self.store = store
        self.broker = broker
        self.rollouts.metadata.create_all(store.engine, tables=[self.rollouts, self.members])

    # --- to be provided -----------------------------------------------------------------------------

    def _publish_stage(self, row: Row[Any], devices: Sequence[str]) -> None:
        raise NotImplementedError

    @classmethod
    def _device_states(cls, store: FleetStore, row: Row[Any]) -> Mapping[str, DeviceState]:
        raise NotImplementedError

    # --- operations ---------------------------------------------------------------------------------

    def _begin(
        self,
        version: int | str,
        sha256: str,
        length: int,
        devices: Sequence[str],
        *,
        test_device: str | None,
        pilot_municipality: str | None,
        percents: Sequence[int],
        max_failure_rate: float,
    ) -> tuple[int, list[Stage]]:
        """Refuse while another rollout is open; plan the stages and record them."""
        latest = self.latest()
        if latest is not None and latest.state in ("running", "paused"):
            raise RolloutError(
                f"{self.kind} rollout {latest.rollout_id} of version {latest.version} is still {latest.state}; "
                "finish it (advance), or halt it first"
            )
        if not devices:
            raise RolloutError("no kiosk to roll out to: let the kiosks connect once, or name them")
        if not 0 <= max_failure_rate <= 1:
            raise RolloutError(f"--max-failure-rate is a share between 0 and 1, got {max_failure_rate}")
        try:
            stages = plan_stages(
                devices, test_device=test_device, pilot_municipality=pilot_municipality, percents=percents
            )
        except ValueError as exc:
            raise RolloutError(str(exc)) from exc
        now = self.store.now_ms()
        with self.store.engine.begin() as conn:
            rollout_id = conn.execute(
                insert(self.rollouts).values(
                    version=version, sha256=sha256, length=length, state="running", stage=0,
                    max_failure_rate=max_failure_rate, reason="", created_at=now, updated_at=now,
                )
            ).inserted_primary_key[0]  # type: ignore[index]  # fmt: skip
            conn.execute(
                insert(self.members),
                [
                    {"rollout_id": rollout_id, "device_id": d, "stage": i, "stage_name": s.name}
                    for i, s in enumerate(stages)
                    for d in s.devices
                ],
            )
        return int(rollout_id), stages

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
                _logger.warning("%s rollout %d halted: %s", self.kind, status.rollout_id, reason)
                status = self._status()
        return status

    def advance(self) -> RolloutStatus:
        """Publish the next stage once the current one is finished (every kiosk done or failed)."""
        status = self.check()
        if status.state != "running":
            raise RolloutError(
                f"{self.kind} rollout {status.rollout_id} is {status.state}"
                f"{': ' + status.reason if status.reason else ''}"
            )
        current = status.stages[status.stage]
        if current.pending:
            raise RolloutError(
                f"stage '{current.name}' still has {current.pending} of {current.targets} kiosks pending; "
                "wait for them (kiosks update between residents) and try again"
            )
        if status.stage + 1 >= len(status.stages):
            self._set(status.rollout_id, state="done")
            return self._status()
        index = status.stage + 1
        devices = self._devices(status.rollout_id, index)
        row = self._latest_row()
        assert row is not None
        self._publish_stage(row, devices)
        self._set(status.rollout_id, stage=index)
        _logger.info(
            "%s rollout %d: stage %d published to %d kiosks",
            self.kind,
            status.rollout_id,
            index,
            len(devices),
        )
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

    def latest(self) -> RolloutStatus | None:
        """The latest rollout, or None before the first."""
        return self.read_status(self.store)

    # --- store --------------------------------------------------------------------------------------

    def _transition(self, allowed: tuple[str, ...], state: str, reason: str = "") -> RolloutStatus:
        status = self._status()
        if status.state not in allowed:
            raise RolloutError(
                f"{self.kind} rollout {status.rollout_id} is {status.state}; cannot make it {state}"
            )
        self._set(status.rollout_id, state=state, **({"reason": reason} if reason else {}))
        return self._status()

    def _set(self, rollout_id: int, **values: object) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(
                update(self.rollouts)
                .where(self.rollouts.c.id == rollout_id)
                .values(updated_at=self.store.now_ms(), **values)
            )

    def _latest_row(self) -> Row[Any] | None:
        query = select(self.rollouts).order_by(self.rollouts.c.id.desc()).limit(1)
        with self.store.engine.connect() as conn:
            return conn.execute(query).first()

    def _devices(self, rollout_id: int, stage: int) -> list[str]:
        query = select(self.members.c.device_id).where(
            self.members.c.rollout_id == rollout_id, self.members.c.stage == stage
        )
        with self.store.engine.connect() as conn:
            return sorted(row[0] for row in conn.execute(query))

    def _status(self) -> RolloutStatus:
        status = self.read_status(self.store)
        if status is None:
            raise RolloutError(f"no {self.kind} rollout yet: start one first (see --help)")
        return status

    @classmethod
    def read_status(cls, store: FleetStore) -> RolloutStatus | None:
        """The latest rollout with per-stage progress, or None before the first (read-only)."""
        cls.rollouts.metadata.create_all(store.engine, tables=[cls.rollouts, cls.members])
        with store.engine.connect() as conn:
            row = conn.execute(select(cls.rollouts).order_by(cls.rollouts.c.id.desc()).limit(1)).first()
            if row is None:
                return None
            members = list(conn.execute(select(cls.members).where(cls.members.c.rollout_id == row.id)))
        states = cls._device_states(store, row)
        names: dict[int, str] = {}
        tallies: dict[int, list[int]] = {}  # stage → [targets, current, failed, pending]
        for member in members:
            names[member.stage] = member.stage_name
            counts = tallies.setdefault(member.stage, [0, 0, 0, 0])
            counts[0] += 1
            counts[{"current": 1, "failed": 2}.get(states.get(member.device_id, "pending"), 3)] += 1
        views = [
            StageStatus(i, names[i], c[0], c[1], c[2], c[3], published=i <= row.stage)
            for i, c in sorted(tallies.items())
        ]
        return RolloutStatus(
            row.id, row.version, row.state, row.stage, row.max_failure_rate, row.reason, views, cls.kind
        )
