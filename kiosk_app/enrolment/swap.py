"""Replace the device identity (key, certificate, chain, root, state, config) as one crash-safe step.

Every new file is first written under a hidden staging name in the identity folder (created with its
final mode, fsynced). A journal (`identity/.swap.json`, written atomically) then commits the swap; only
after it do the staged files replace the real ones by `rename()`. Whoever next starts
(`recover_identity`) finishes a committed swap or discards an uncommitted one, so the files on disk are
always the old identity or the new one, never a key of one with the certificate of the other.

For power-cut tests, `MADOGUCHI_TEST_KILL_AT=<step>` kills the process with SIGKILL at that step
(`swap_steps` lists them); it is never set in production.
"""

from __future__ import annotations

import json
import logging
import os
import pwd
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kiosk_app.agent.durable import fsync_dir

__all__ = ["JOURNAL_NAME", "KILL_ENV", "NewFile", "recover_identity", "swap_identity", "swap_steps"]

_logger = logging.getLogger(__name__)

JOURNAL_NAME = ".swap.json"
KILL_ENV = "MADOGUCHI_TEST_KILL_AT"
_STAGED_SUFFIX = ".new"


@dataclass(frozen=True)
class NewFile:
    """One file of the new identity: where it goes, its bytes and its mode (0600 for the key)."""

    target: Path
    data: bytes
    mode: int = 0o644


def swap_steps(files: Sequence[NewFile]) -> list[str]:
    """The kill points of a swap of `files`, in order (for fault-injection tests)."""
    names = [f.target.name for f in files]
    return [
        *(f"staged:{n}" for n in names),
        "committed",
        *(f"renamed:{n}" for n in names),
        "done",
    ]


def _kill_point(step: str) -> None:
    if os.environ.get(KILL_ENV) == step:
        _logger.warning("%s=%s: killing this process (power-cut test)", KILL_ENV, step)
        os.kill(os.getpid(), signal.SIGKILL)


def _staged(identity: Path, target: Path) -> Path:
    return identity / f".{target.name}{_STAGED_SUFFIX}"


def create_file(path: Path, data: bytes, mode: int, owner: str | None) -> None:
    """Create `path` fresh with `mode` from the start (never briefly world-readable), written and fsynced."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, mode)  # the umask may have narrowed it
    if owner:
        user = pwd.getpwnam(owner)
        os.chown(path, user.pw_uid, user.pw_gid)


def swap_identity(identity: Path, files: Sequence[NewFile], owner: str | None = None) -> None:
    """Stage `files`, commit with the journal, rename them into place, then drop the journal.

    All targets must be on the data partition (the identity folder's file system) so each rename is
    atomic; names must be distinct.
    """
    identity.mkdir(parents=True, exist_ok=True)
    recover_identity(identity)
    folders = {identity}
    for new in files:
        new.target.parent.mkdir(parents=True, exist_ok=True)
        folders.add(new.target.parent)
        create_file(_staged(identity, new.target), new.data, new.mode, owner)
        _kill_point(f"staged:{new.target.name}")
    fsync_dir(identity)
    entries = [os.path.relpath(new.target, identity) for new in files]
    journal = identity / JOURNAL_NAME
    create_file(identity / f"{JOURNAL_NAME}.tmp", json.dumps({"files": entries}).encode(), 0o600, None)
    os.replace(identity / f"{JOURNAL_NAME}.tmp", journal)
    fsync_dir(identity)  # the commit point
    _kill_point("committed")
    for new in files:
        os.replace(_staged(identity, new.target), new.target)
        _kill_point(f"renamed:{new.target.name}")
    _finish(identity, journal, folders)
    _kill_point("done")


def _finish(identity: Path, journal: Path, folders: set[Path]) -> None:
    for folder in sorted(folders):
        fsync_dir(folder)
    journal.unlink()
    fsync_dir(identity)


def recover_identity(identity: Path) -> bool:
    """Finish a committed swap or discard an uncommitted one; True if a committed swap was completed."""
    if not identity.is_dir():
        return False
    journal = identity / JOURNAL_NAME
    completed = False
    if journal.exists():
        try:
            entries = json.loads(journal.read_text())["files"]
        except (ValueError, KeyError, TypeError):
            entries = None  # cannot happen with a rename-committed journal; treat as uncommitted
        if entries is not None:
            folders = {identity}
            for entry in entries:
                target = (identity / entry).resolve()
                folders.add(target.parent)
                staged = _staged(identity, target)
                if staged.exists():
                    os.replace(staged, target)
            _finish(identity, journal, folders)
            _logger.warning("completed an identity swap interrupted by a crash or power cut")
            completed = True
        else:
            journal.unlink()
    leftovers = [p for p in identity.glob(f".*{_STAGED_SUFFIX}")]
    leftovers += list(identity.glob(f"{JOURNAL_NAME}.tmp"))
    for path in leftovers:
        path.unlink(missing_ok=True)
    if leftovers:
        fsync_dir(identity)
        _logger.warning("discarded an identity swap that had not been committed; the old identity stays")
    return completed
