"""Durable SQLite connections: WAL journal and synchronous=FULL, so a commit survives a power cut.

Every journal of the product (payments, statistics outbox, issuance, PKI ledger, enrolment tokens)
opens its database through `connect_durable`, so none can forget a pragma. `synchronous` is a
per-connection setting: it is set, and checked, on every connection.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["DurabilityError", "connect_durable"]

_FULL = 2


class DurabilityError(sqlite3.Error):
    """The database would not run in WAL mode with synchronous=FULL (e.g. on a network file system)."""


def connect_durable(
    path: Path | str, *, timeout: float = 10.0, check_same_thread: bool = True
) -> sqlite3.Connection:
    """Open `path` in autocommit mode (explicit BEGIN/COMMIT) with WAL and synchronous=FULL.

    Raises:
        sqlite3.Error: the file cannot be opened.
        DurabilityError: the file system refuses WAL or FULL synchronisation.
    """
    db = sqlite3.connect(
        str(path), timeout=timeout, isolation_level=None, check_same_thread=check_same_thread
    )
    try:
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        db.execute("PRAGMA synchronous=FULL")
        sync = db.execute("PRAGMA synchronous").fetchone()[0]
        db.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
    except BaseException:
        db.close()
        raise
    if str(mode).lower() != "wal" or sync != _FULL:
        db.close()
        raise DurabilityError(f"{path}: journal_mode={mode}, synchronous={sync}; WAL with FULL is required")
    return db
