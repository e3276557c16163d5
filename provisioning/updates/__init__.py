"""App updates: signed release bundles, side-by-side installs, atomic switch, health gate, rollback."""

from __future__ import annotations

from provisioning.updates.bundle import ReleaseManifest, build_bundle, open_bundle, sign_bundle, version_key
from provisioning.updates.health import CommandRestarter, HealthResult, ReadinessCheck, ReadinessFile
from provisioning.updates.manager import ReleaseManager, ReleaseStatus, UpdateFailed

__all__ = [
    "CommandRestarter",
    "HealthResult",
    "ReadinessCheck",
    "ReadinessFile",
    "ReleaseManager",
    "ReleaseManifest",
    "ReleaseStatus",
    "UpdateFailed",
    "build_bundle",
    "open_bundle",
    "sign_bundle",
    "version_key",
]
