"""Release bundles the centre serves, kept by SHA-256 under `<data_dir>/releases/<sha256>.tar`.

A bundle is verified (signature by a trusted release key, every wheel's hash) before it is stored,
so the centre never offers a kiosk something the kiosk would refuse. The enrolment endpoint serves
these files to device certificates (`GET /v1/releases/<sha256>`).
"""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from central_broker.durable_files import write_durably
from provisioning.updates.bundle import ReleaseManifest, open_bundle

__all__ = ["ReleaseFiles", "StoredRelease"]

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class StoredRelease:
    """A verified bundle in the centre's release folder."""

    manifest: ReleaseManifest
    sha256: str
    length: int
    path: Path


class ReleaseFiles:
    """The folder of release bundles (`<central data_dir>/releases`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def add(self, bundle: Path, keys: dict[str, Ed25519PublicKey]) -> StoredRelease:
        """Verify `bundle` and store it under its hash (durably; a second add of the same file is a no-op).

        Raises:
            UserError: unsigned, signed by an unknown key, or a wheel does not match the manifest.
        """
        manifest = open_bundle(bundle, keys).manifest
        digest = hashlib.sha256()
        with bundle.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        sha256 = digest.hexdigest()
        target = self.folder / f"{sha256}.tar"
        if not target.is_file():
            with bundle.open("rb") as source:
                write_durably(target, lambda out: shutil.copyfileobj(source, out, 1 << 20))
        return StoredRelease(manifest, sha256, target.stat().st_size, target)

    def path(self, sha256: str) -> Path | None:
        """The stored bundle with this hash, or None (also for anything that is not a hash)."""
        if not _SHA256.match(sha256):
            return None
        target = self.folder / f"{sha256}.tar"
        return target if target.is_file() else None
