"""The PKI ledger: every certificate issued and revoked, journaled durably in SQLite (WAL, synchronous=FULL)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from madoguchi.sqlite import connect_durable

__all__ = ["CertRecord", "Ledger"]

_COLUMNS = "serial, authority, cn, not_before, not_after, issued_at, revoked_at, reason"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS certificates (
    serial TEXT PRIMARY KEY,
    authority TEXT NOT NULL,
    cn TEXT NOT NULL,
    not_before INTEGER NOT NULL,
    not_after INTEGER NOT NULL,
    issued_at INTEGER NOT NULL,
    revoked_at INTEGER,
    reason TEXT
);
CREATE INDEX IF NOT EXISTS certificates_cn ON certificates (cn);
"""


@dataclass(frozen=True)
class CertRecord:
    """One issued certificate (serial in hex, times in epoch seconds)."""

    serial: str
    authority: str
    cn: str
    not_before: int
    not_after: int
    issued_at: int
    revoked_at: int | None
    reason: str | None


class Ledger:
    """SQLite table of issued certificates; a connection per call keeps it safe across threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with self._connect() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = connect_durable(self.path)
        try:
            yield db
        finally:
            db.close()

    def record(self, serial: int, authority: str, cn: str, not_before: int, not_after: int) -> None:
        """Journal an issued certificate before it is handed out."""
        with self._connect() as db:
            db.execute(
                "INSERT INTO certificates (serial, authority, cn, not_before, not_after, issued_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (f"{serial:x}", authority, cn, not_before, not_after, int(time.time())),
            )

    def revoke_cn(self, authority: str, cn: str, reason: str) -> list[str]:
        """Mark every unrevoked, unexpired certificate of `cn` revoked; return their serials."""
        now = int(time.time())
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            rows = db.execute(
                "SELECT serial FROM certificates WHERE authority = ? AND cn = ? AND revoked_at IS NULL"
                " AND not_after > ?",
                (authority, cn, now),
            ).fetchall()
            db.executemany(
                "UPDATE certificates SET revoked_at = ?, reason = ? WHERE serial = ?",
                [(now, reason, row[0]) for row in rows],
            )
            db.execute("COMMIT")
        return [row[0] for row in rows]

    def revoked(self, authority: str) -> list[CertRecord]:
        """Revoked certificates of one authority that have not expired yet (what the CRL lists)."""
        return self._select(
            "WHERE authority = ? AND revoked_at IS NOT NULL AND not_after > ?", (authority, int(time.time()))
        )

    def is_revoked(self, serial: int) -> bool:
        """Whether the certificate with this serial was revoked."""
        with self._connect() as db:
            row = db.execute(
                "SELECT revoked_at FROM certificates WHERE serial = ?", (f"{serial:x}",)
            ).fetchone()
        return row is not None and row[0] is not None

    def all(self, cn: str | None = None) -> list[CertRecord]:
        """Every certificate, newest first; only those of `cn` when given."""
        if cn is None:
            return self._select("ORDER BY issued_at DESC", ())
        return self._select("WHERE cn = ? ORDER BY issued_at DESC", (cn,))

    def _select(self, where: str, params: tuple[object, ...]) -> list[CertRecord]:
        with self._connect() as db:
            query = "SELECT " + _COLUMNS + " FROM certificates " + where  # noqa: S608 - fixed clauses; values bound
            rows = db.execute(query, params).fetchall()
        return [CertRecord(*row) for row in rows]
