"""App releases from the centre: verified bundles kept by hash, and staged rollouts through `down/desired`."""

from __future__ import annotations

from central_broker.releases.files import ReleaseFiles, StoredRelease
from central_broker.releases.rollout import ReleaseRollout

__all__ = ["ReleaseFiles", "ReleaseRollout", "StoredRelease"]
