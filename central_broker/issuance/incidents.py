"""Incidents for staff follow-up (R-12): a failed print then a reprint, a paid amount that does not match
the fee, an unknown payment result, a card left behind.

Stored durably (SQLite WAL + synchronous=FULL) beside the issuance store; each row names the device,
kind, document serial and payment reference — never personal data. Opening one also calls the
service's `on_incident` hook (`kiosk-central serve` raises a fleet alert with it, so operators see it
on the dashboard). Staff close incidents with a note (`kiosk-central issuance incidents close`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from madoguchi.contracts.issuance import IncidentKind
from madoguchi.sqlite import connect_durable

__all__ = ["Incident", "IncidentLog"]

_logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS incident (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    opened_ms INTEGER NOT NULL,
    device_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    serial TEXT,
    payment_ref TEXT,
    detail TEXT NOT NULL DEFAULT '',
    closed_ms INTEGER,
    note TEXT
);
"""


@dataclass(frozen=True)
class Incident:
    """One incident; open while `closed_ms` is None."""

    incident_id: int
    opened_ms: int
    device_id: str
    kind: IncidentKind
    serial: str | None
    payment_ref: str | None
    detail: str
    closed_ms: int | None
    note: str | None

    @property
    def open(self) -> bool:
        """Not yet closed by staff."""
        return self.closed_ms is None

    def to_dict(self) -> dict[str, object]:
        """For `--json`."""
        return {**asdict(self), "kind": self.kind.value, "open": self.open}


class IncidentLog:
    """The incident table (thread-safe)."""

    def __init__(self, path: Path | str) -> None:
        self._db = connect_durable(path, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def open_incident(
        self,
        now_ms: int,
        device_id: str,
        kind: IncidentKind,
        serial: str | None,
        payment_ref: str | None,
        detail: str,
    ) -> Incident:
        """Record a new open incident (committed before this returns)."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO incident (opened_ms, device_id, kind, serial, payment_ref, detail)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (now_ms, device_id, kind.value, serial, payment_ref, detail[:300]),
            )
            incident_id = int(cursor.lastrowid or 0)
        _logger.warning(
            "incident %d opened: %s on %s (%s)", incident_id, kind.value, device_id, serial or "-"
        )
        return Incident(incident_id, now_ms, device_id, kind, serial, payment_ref, detail[:300], None, None)

    def close_incident(self, incident_id: int, now_ms: int, note: str) -> bool:
        """Close an open incident with staff's note; False if there is no such open incident."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE incident SET closed_ms = ?, note = ? WHERE id = ? AND closed_ms IS NULL",
                (now_ms, note[:500], incident_id),
            )
            return cursor.rowcount == 1

    def incidents(self, open_only: bool = False) -> list[Incident]:
        """Incidents, oldest first."""
        query = "SELECT id, opened_ms, device_id, kind, serial, payment_ref, detail, closed_ms, note FROM incident"
        if open_only:
            query += " WHERE closed_ms IS NULL"
        with self._lock:
            rows = self._db.execute(query + " ORDER BY id").fetchall()
        return [
            Incident(int(r[0]), int(r[1]), str(r[2]), IncidentKind(r[3]), r[4], r[5], str(r[6]), r[7], r[8])
            for r in rows
        ]
