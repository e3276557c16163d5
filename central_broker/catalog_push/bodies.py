"""Catalog bodies too large for MQTT, kept by SHA-256 under `<data_dir>/catalogs/<sha256>.json`.

`publish_release` stores a body here before it signs any document naming its HTTPS url, and the
enrolment endpoint (`kiosk-central enrol-serve`, same data folder) serves it to current device
certificates (`GET /v1/catalogs/<sha256>`), as it serves app release bundles. Only bodies that
already passed the catalog checks are stored; the kiosk checks length and hash against the signed
document again, so the file and the HTTPS transport need not be trusted.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from central_broker.durable_files import write_durably

__all__ = ["CatalogBodies"]

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class CatalogBodies:
    """The folder of catalog bodies served over HTTPS (`<central data_dir>/catalogs`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> CatalogBodies:
        """The folder of a central data folder (`[central] data_dir`, `enrol-serve --data-dir`)."""
        return cls(data_dir / "catalogs")

    def add(self, body: bytes) -> str:
        """Store `body` under its hash, durably (a file already there is replaced unless it is this body)."""
        sha256 = hashlib.sha256(body).hexdigest()
        target = self.folder / f"{sha256}.json"
        if target.is_file() and target.read_bytes() == body:
            return sha256
        write_durably(target, lambda out: out.write(body))
        return sha256

    def path(self, sha256: str) -> Path | None:
        """The stored body with this hash, or None (also for anything that is not a hash)."""
        if not _SHA256.match(sha256):
            return None
        target = self.folder / f"{sha256}.json"
        return target if target.is_file() else None

    def read(self, sha256: str) -> bytes | None:
        """The stored body with this hash, or None."""
        path = self.path(sha256)
        try:
            return None if path is None else path.read_bytes()
        except OSError:
            return None
