"""Every journal opens SQLite with WAL and synchronous=FULL; a database that cannot is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from madoguchi.sqlite import DurabilityError, connect_durable


def test_connection_is_wal_with_full_sync_and_autocommit(tmp_path: Path) -> None:
    db = connect_durable(tmp_path / "j.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2
    db.execute("CREATE TABLE t (x)")
    db.execute("INSERT INTO t VALUES (1)")
    other = sqlite3.connect(tmp_path / "j.db")
    assert other.execute("SELECT x FROM t").fetchall() == [(1,)], "autocommit: visible without commit()"
    other.close()
    db.close()


def test_in_memory_database_cannot_be_durable() -> None:
    """An in-memory database has no WAL: using one for a journal is an error, not a silent loss."""
    with pytest.raises(DurabilityError, match="WAL with FULL is required"):
        connect_durable(":memory:")
