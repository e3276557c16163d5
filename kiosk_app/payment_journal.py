"""Where a kiosk keeps its payment journal: `<data_dir>/payments/journal.sqlite`, for the app and staff alike.

`journal_path` is the only place that names the file; the kiosk app (`runner/build.py`), the staff
commands (`kiosk payment ... --data-dir`) and the demo summary all use it.

Earlier versions of `kiosk payment ... --data-dir` used `<data_dir>/payments.sqlite`. Opening the
journal of a data directory adopts such a file: if the new file does not exist yet, the old one is
moved there (its WAL folded into the file first, the move made with a no-clobber hard link and
directory fsyncs, so a power cut at any step loses no committed entry). If both exist and the old one
holds payments, opening is refused with a message naming both files: merging two journals is a
decision for staff. An old file without any payment is left where it is and not used.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

from device_drivers.payment.identifiers import validate_kiosk_id
from device_drivers.payment.journal import Journal, JournalError
from madoguchi.sqlite import connect_durable

__all__ = [
    "JournalNotFound",
    "TwoJournals",
    "journal_path",
    "legacy_journal_path",
    "open_kiosk_journal",
]

_logger = logging.getLogger(__name__)


class JournalNotFound(JournalError):
    """A staff command that only reads or settles entries found no journal where it looked."""

    code = "payment.journal_missing"


class TwoJournals(JournalError):
    """A data directory holds the journal and an older one with payments; staff must decide."""

    code = "payment.two_journals"


def journal_path(data_dir: Path) -> Path:
    """The payment journal of the kiosk whose data directory is `data_dir`."""
    return Path(data_dir) / "payments" / "journal.sqlite"


def legacy_journal_path(data_dir: Path) -> Path:
    """Where `kiosk payment --data-dir` kept the journal before it shared the app's file."""
    return Path(data_dir) / "payments.sqlite"


def open_kiosk_journal(data_dir: Path, kiosk_id: str, *, create: bool = True) -> Journal:
    """Open the journal of `data_dir`, adopting an old-location journal first.

    Args:
        data_dir: the kiosk's data directory (`[kiosk] data_dir`).
        kiosk_id: prefix of new references; checked before any file is touched.
        create: make an empty journal if there is none (False: raise `JournalNotFound`).

    Raises:
        InvalidKioskId: the kiosk id cannot prefix references.
        TwoJournals: both files hold payments.
        JournalNotFound: no journal and `create` is False.
        JournalError: the journal cannot be opened or moved.
    """
    validate_kiosk_id(kiosk_id)
    adopt_legacy_journal(Path(data_dir))
    path = journal_path(data_dir)
    if not create and not path.is_file():
        raise JournalNotFound(f"no payment journal at {path}")
    return Journal(path, kiosk_id)


def adopt_legacy_journal(data_dir: Path) -> None:
    """Move `<data_dir>/payments.sqlite` to the journal path if that is free (see the module doc)."""
    old, new = legacy_journal_path(data_dir), journal_path(data_dir)
    if not old.is_file():
        return
    if new.exists():
        _keep_both_or_refuse(old, new)
        return
    _fold_wal(old)
    new.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(old, new)  # never replaces a journal that appeared meanwhile
    except FileExistsError:
        _keep_both_or_refuse(old, new)
        return
    except OSError as exc:
        raise JournalError(
            f"cannot move the payment journal {old} to {new} ({exc}); "
            f"stop the kiosk and move it by hand: mv {old} {new}"
        ) from exc
    _fsync_dir(new.parent)
    _remove(old)
    _logger.warning("payment journal moved from %s to %s (its old location)", old, new)


def _keep_both_or_refuse(old: Path, new: Path) -> None:
    if os.path.samefile(old, new):  # a move cut short after the link: finish it
        _remove(old)
        return
    held = _payment_count(old)
    if held == 0:
        _logger.info("%s holds no payments and is not used; the payment journal is %s", old, new)
        return
    what = f"{held} payment(s)" if isinstance(held, int) else held
    raise TwoJournals(
        f"two payment journals: {new} (the kiosk's) and {old} (from an older `kiosk payment --data-dir`, "
        f"{what}); nothing was changed. Check the old entries with "
        f"`kiosk payment journal --journal {old}`, settle any that are unresolved, then move {old} "
        "out of the data directory"
    )


def _payment_count(path: Path) -> int | str:
    try:
        db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)  # read-only: leaves its WAL as it is
        try:
            return int(db.execute("SELECT count(*) FROM payments").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error as exc:
        return f"unreadable: {exc}"


def _fold_wal(path: Path) -> None:
    """Copy every commit still in the WAL into the file itself, so the file alone can be moved."""
    try:
        db = connect_durable(path)
        try:
            busy = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        finally:
            db.close()  # the last connection to close removes the WAL file
    except sqlite3.Error as exc:
        raise JournalError(f"cannot read the old payment journal {path}: {exc}") from exc
    wal = path.with_name(path.name + "-wal")
    if busy or wal.exists():
        raise JournalError(
            f"the old payment journal {path} is open in another program; stop it (the kiosk or another "
            "`kiosk payment` command) and try again"
        )


def _remove(old: Path) -> None:
    for path in (old, old.with_name(old.name + "-shm")):
        path.unlink(missing_ok=True)
    _fsync_dir(old.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
