"""A staged app release rollout through each kiosk's retained `down/desired` (same stages as catalogs).

`start` verifies the signed bundle, stores it by hash for the enrolment endpoint to serve over mutual
TLS, and publishes `release: {version, sha256, length, url}` in the desired documents of the first
stage only (each kiosk keeps the catalog its document already named). A kiosk downloads, verifies,
installs side by side, switches and gates on its health; it reports each step on `up/ack`
(kind `release`, ref `release-<version>`). A kiosk counts as current once it acks APPLIED (its health
gate passed) or reports the version (or a higher one) in its birth, as failed when it acked FAILED, REJECTED or ROLLED_BACK. Kiosks refuse
versions not above the highest they ever committed, so undoing a release means publishing the old
content as a new, higher version.

A kiosk of a published stage that has neither finished nor failed is, in this order (`release_exceptions`):

- *skipped* when it is revoked, never connected, or was last seen more than `offline_skip_s` ago
  (`--skip-offline`, default 24 h; 0 turns it off). A skipped kiosk no longer holds the stage and does
  not count as failed; the release stays in its desired document, so it still updates if it comes back.
- *timed-out* when the stage was published more than `stage_deadline_s` ago (`--stage-deadline`, off by
  default), or when its stage was already advanced past. A timed-out kiosk counts as failed: the stage
  halts by itself when failures plus timeouts exceed `--max-failure-rate`, otherwise it may be advanced.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import BigInteger, Column, Row, String, Text, select

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
    StageStatus,
    rollout_tables,
)
from central_broker.store import AckRecord, FleetStore
from central_broker.store.schema import kiosk_state, metadata
from central_broker.store.telemetry_schema import kiosk_ack
from madoguchi.config.broker import BrokerConfig
from madoguchi.contracts.signed import ReleaseRef
from madoguchi.contracts.topics import FLEET_KEYS
from madoguchi.enrolment import RELEASES_PATH
from provisioning.updates.bundle import check_manifest, open_bundle, version_key
from provisioning.updates.targets import TargetPlatform

__all__ = [
    "DEFAULT_OFFLINE_SKIP_S",
    "FAILED_ACKS",
    "ReleaseRollout",
    "ReleaseStageStatus",
    "StageException",
    "parse_duration",
    "release_exceptions",
    "release_failures",
    "release_ref_name",
    "version_sort",
]

_logger = logging.getLogger(__name__)

FAILED_ACKS = ("FAILED", "REJECTED", "ROLLED_BACK")

DEFAULT_OFFLINE_SKIP_S = 24 * 3600

# The three timing columns are also in the store's `_ADDED_COLUMNS` (stores made before they existed).
release_rollout, release_rollout_device = rollout_tables(
    metadata,
    "release",
    String(32),
    Column("url", Text, nullable=False, default=""),
    Column("stage_deadline_s", BigInteger, nullable=True),  # 0 or NULL: no deadline
    Column("offline_skip_s", BigInteger, nullable=True),  # 0 or NULL: never skip for being offline
    Column("stage_published_at", BigInteger, nullable=True),  # epoch ms the current stage went out
)


def parse_duration(text: str) -> int:
    """`24h`, `90m`, `2d`, `30s` or plain seconds → seconds; `0` turns a rule off.

    Raises:
        ValueError: not a duration.
    """
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    value = text.strip().lower()
    scale = units.get(value[-1:], 0)
    number = value[:-1] if scale else value
    if not (number.isascii() and number.isdigit()):
        raise ValueError(f"{text!r} is not a duration: use e.g. 24h, 90m, 2d or seconds")
    return int(number) * (scale or 1)


@dataclass(frozen=True)
class ReleaseStageStatus(StageStatus):
    """A release stage: `failed` includes the timed-out kiosks, `pending` excludes skipped and timed-out."""

    skipped: int = 0
    timed_out: int = 0


@dataclass(frozen=True)
class StageException:
    """A kiosk that no longer holds its stage: skipped (revoked, offline) or timed-out, and why."""

    device_id: str
    stage: int
    state: str  # "skipped" | "timed-out"
    reason: str


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
        target: TargetPlatform | None = None,
        stage_deadline_s: int = 0,
        offline_skip_s: int = DEFAULT_OFFLINE_SKIP_S,
    ) -> RolloutStatus:
        """Verify and store the bundle, plan the stages, publish the first stage's desired documents.

        Raises:
            UserError: the bundle is unsigned, tampered or signed by a key the kiosks do not trust, or
                holds a wheel the kiosks (`target`) cannot install, or no wheel of the app.
            RolloutError: another release rollout is open, no kiosks, or a bad stage plan.

        A kiosk still pending `stage_deadline_s` after its stage went out counts as timed-out (failed); one
        revoked or offline for more than `offline_skip_s` is skipped (see the module docstring).
            RolloutError: another release rollout is open, no kiosks, or a bad stage plan.
        """
        if stage_deadline_s < 0 or offline_skip_s < 0:
            raise RolloutError("--stage-deadline and --skip-offline are durations such as 24h (0: off)")
        if not url_base.startswith("https://"):
            raise RolloutError(
                f"--url {url_base!r} must be the https:// address kiosks use for the enrolment endpoint "
                "(kiosk-central enrol-serve), e.g. https://central.example.lg.jp:8443"
            )
        check_manifest(open_bundle(bundle, release_keys).manifest, target)
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
        self._set(rollout_id, url=url, stage_deadline_s=stage_deadline_s, offline_skip_s=offline_skip_s)
        row = self._latest_row()
        assert row is not None
        self._publish_stage(row, stages[0].devices, with_keys=True)
        _logger.info("rollout %d of app release %s started: %d stages", rollout_id, version, len(stages))
        return self.status()

    def _publish_stage(self, row: Row[Any], devices: Sequence[str], with_keys: bool = False) -> None:
        self._set(row.id, stage_published_at=self.store.now_ms())  # the stage deadline counts from here
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

    @classmethod
    def read_status(cls, store: FleetStore) -> RolloutStatus | None:
        """The latest release rollout; skipped kiosks leave `pending`, timed-out ones move to `failed`."""
        status = super().read_status(store)
        if status is None:
            return None
        found = release_exceptions(store, status)
        stages: list[StageStatus] = []
        for stage in status.stages:
            skipped = sum(1 for e in found if e.stage == stage.index and e.state == "skipped")
            timed_out = sum(1 for e in found if e.stage == stage.index and e.state == "timed-out")
            base = {k: getattr(stage, k) for k in ("index", "name", "targets", "current", "published")}
            stages.append(ReleaseStageStatus(
                **base, failed=stage.failed + timed_out, pending=stage.pending - skipped - timed_out,
                skipped=skipped, timed_out=timed_out,
            ))  # fmt: skip
        return replace(status, stages=stages)


def release_exceptions(store: FleetStore, status: RolloutStatus | None) -> list[StageException]:
    """Kiosks of published stages that are neither current nor failed but skipped or timed out (for the fleet page)."""
    if status is None:
        return []
    rollouts, members = ReleaseRollout.rollouts, ReleaseRollout.members
    with store.engine.connect() as conn:
        row = conn.execute(select(rollouts).where(rollouts.c.id == status.rollout_id)).first()
        if row is None:
            return []
        staged = list(conn.execute(
            select(members.c.device_id, members.c.stage).where(
                members.c.rollout_id == row.id, members.c.stage <= row.stage
            )
        ))  # fmt: skip
        seen = {
            dev: (state, last)
            for dev, state, last in conn.execute(
                select(kiosk_state.c.device_id, kiosk_state.c.status, kiosk_state.c.last_seen)
            )
        }
    settled = ReleaseRollout._device_states(store, row)
    now = store.now_ms()
    offline_ms = (row.offline_skip_s or 0) * 1000
    deadline_ms = (row.stage_deadline_s or 0) * 1000
    found = []
    for device_id, stage in sorted(staged, key=lambda m: (m.stage, m.device_id)):
        if device_id in settled:
            continue
        presence, last_seen = seen.get(device_id, (None, None))
        if presence == "revoked":
            found.append(StageException(device_id, stage, "skipped", "revoked"))
        elif last_seen is None:
            found.append(StageException(device_id, stage, "skipped", "never connected"))
        elif offline_ms and now - last_seen > offline_ms:
            hours = (now - last_seen) / 3_600_000
            found.append(StageException(device_id, stage, "skipped", f"offline for {hours:.0f} h"))
        elif stage < row.stage:
            found.append(
                StageException(device_id, stage, "timed-out", "no result before the stage was advanced")
            )
        elif deadline_ms and now - (row.stage_published_at or now) > deadline_ms:
            hours = deadline_ms / 3_600_000
            found.append(StageException(device_id, stage, "timed-out", f"no result within the {hours:g} h stage deadline"))  # fmt: skip
    return found


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
