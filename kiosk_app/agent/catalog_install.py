"""The kiosk's installed catalogs on disk, swapped atomically (contract §5).

    <data_dir>/catalog/
        releases/v<version>-<sha8>/catalog.json   one folder per installed version (fsynced)
        current -> releases/v…                   symlink replaced by rename (atomic)
        state.json                               {"version", "sha256"} of `current`, written last

`install()` writes the new folder and fsyncs it, points a temporary symlink at it and renames it
over `current`, fsyncs the folder, then persists the version. The previous release stays on disk
(last good catalog); older ones are pruned.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from kiosk_app.agent.durable import fsync_dir, write_atomic

__all__ = ["CATALOG_FILE", "CatalogInstall", "InstalledCatalog"]

_logger = logging.getLogger(__name__)

CATALOG_FILE = "catalog.json"
_KEEP = 2


@dataclass(frozen=True)
class InstalledCatalog:
    """The catalog the kiosk runs."""

    version: int
    sha256: str
    path: Path


class CatalogInstall:
    """Installed catalogs under `root` (usually `<data_dir>/catalog`)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.releases = root / "releases"
        self.current_link = root / "current"
        self.state_path = root / "state.json"

    def current(self) -> InstalledCatalog | None:
        """The running catalog, or None before the first install."""
        try:
            state = json.loads(self.state_path.read_text())
        except (FileNotFoundError, ValueError):
            return None
        return InstalledCatalog(int(state["version"]), str(state["sha256"]), self.current_link / CATALOG_FILE)

    def version(self) -> int | None:
        """Installed version (None before the first)."""
        current = self.current()
        return None if current is None else current.version

    def install(self, version: int, sha256: str, body: bytes) -> InstalledCatalog:
        """Write, fsync and atomically switch to a new catalog; then persist its version."""
        folder = self.releases / f"v{version}-{sha256[:8]}"
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        target = folder / CATALOG_FILE
        with target.open("wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        fsync_dir(folder)
        fsync_dir(self.releases)
        tmp_link = self.root / ".current.tmp"
        if tmp_link.is_symlink() or tmp_link.exists():
            tmp_link.unlink()
        tmp_link.symlink_to(folder.relative_to(self.root))
        os.replace(tmp_link, self.current_link)
        fsync_dir(self.root)
        write_atomic(self.state_path, json.dumps({"version": version, "sha256": sha256}).encode())
        self._prune(folder)
        _logger.info("catalog version %d installed (%s)", version, sha256[:12])
        return InstalledCatalog(version, sha256, self.current_link / CATALOG_FILE)

    def _prune(self, keep: Path) -> None:
        folders = sorted(self.releases.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
        for folder in [f for f in folders if f != keep][_KEEP - 1 :]:
            shutil.rmtree(folder, ignore_errors=True)
