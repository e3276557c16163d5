"""Registry adapter: the city's resident system behind one small interface, with an embedded SQLite default.

The service asks two questions: which resident an authentication certificate belongs to (by issuer +
serial, or by SPKI hash, as enrolled when the card was issued) and who lives in that resident's
household. A city plugs its own system in by implementing `ResidentRegistry`; `SqliteRegistry` is the
embedded default (pilot, tests, demo). Everything here is personal data: never log it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

from cryptography import x509

from central_broker.issuance.authcheck import spki_sha256
from madoguchi.sqlite import connect_durable

__all__ = ["Resident", "ResidentRegistry", "SqliteRegistry", "TaxFacts"]

_logger = logging.getLogger(__name__)


@dataclass(frozen=True, repr=False)
class TaxFacts:
    """所得・課税 figures of one fiscal year (yen)."""

    fiscal_year: int
    income: int
    taxable_income: int
    municipal_tax: int
    prefectural_tax: int


@dataclass(frozen=True, repr=False)
class Resident:
    """What the registry knows about one resident (personal data: repr shows only the id)."""

    resident_id: str
    name: str
    kana: str
    birth_date: date
    sex: str  # as printed: 男 / 女
    address: str
    household_id: str
    relationship: str = "世帯主"
    householder: str = ""
    honseki: str = ""
    hittosha: str = ""
    moved_out: bool = False  # 転出届 filed
    deceased_in_household: bool = False
    support_measures: bool = False  # 支援措置
    moved_in: date | None = None
    seal_registration_no: str | None = None
    tax: TaxFacts | None = None

    def __repr__(self) -> str:
        return f"Resident({self.resident_id!r})"

    def age_on(self, day: date) -> int:
        """Full years on `day` (Japanese law counts the day before the birthday; the difference is nil here)."""
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


class ResidentRegistry(Protocol):
    """What the issuance service needs from the city's resident system."""

    def resident_for_certificate(self, issuer: str, serial: int, spki_sha256: str) -> Resident | None:
        """The resident an enrolled authentication certificate belongs to, or None."""
        ...

    def resident(self, resident_id: str) -> Resident | None:
        """A resident by the id this registry gave them."""
        ...

    def household(self, resident: Resident) -> tuple[Resident, ...]:
        """Everyone in the resident's household (the resident included), householder first."""
        ...

    def close(self) -> None:
        """Release connections to the resident system."""
        ...


def _encode(resident: Resident) -> str:
    data = dataclasses.asdict(resident)
    data["birth_date"] = resident.birth_date.isoformat()
    data["moved_in"] = resident.moved_in.isoformat() if resident.moved_in else None
    return json.dumps(data, ensure_ascii=False)


def _decode(text: str) -> Resident:
    data = json.loads(text)
    data["birth_date"] = date.fromisoformat(data["birth_date"])
    data["moved_in"] = date.fromisoformat(data["moved_in"]) if data["moved_in"] else None
    data["tax"] = TaxFacts(**data["tax"]) if data["tax"] else None
    return Resident(**data)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS residents (
    resident_id TEXT PRIMARY KEY, household_id TEXT NOT NULL, facts TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS residents_household ON residents (household_id);
CREATE TABLE IF NOT EXISTS cert_links (
    issuer TEXT NOT NULL, serial TEXT NOT NULL, spki_sha256 TEXT NOT NULL,
    resident_id TEXT NOT NULL REFERENCES residents (resident_id),
    PRIMARY KEY (issuer, serial));
CREATE INDEX IF NOT EXISTS cert_links_spki ON cert_links (spki_sha256);
"""


class SqliteRegistry:
    """The embedded registry: residents and their enrolled authentication certificates in one SQLite file."""

    def __init__(self, path: Path | str = ":memory:") -> None:
        if str(path) == ":memory:":  # tests only: WAL does not apply to an in-memory database
            self._db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        else:
            self._db = connect_durable(path, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def add_resident(self, resident: Resident) -> None:
        """Insert or replace a resident's facts."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO residents VALUES (?, ?, ?)",
                (resident.resident_id, resident.household_id, _encode(resident)),
            )

    def enrol_certificate(self, resident_id: str, certificate_der: bytes) -> None:
        """Link an authentication certificate (DER) to a resident, as the card office does at issuance."""
        cert = x509.load_der_x509_certificate(certificate_der)
        row = (cert.issuer.rfc4514_string(), format(cert.serial_number, "x"), spki_sha256(cert), resident_id)
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO cert_links VALUES (?, ?, ?, ?)", row)

    def resident_for_certificate(self, issuer: str, serial: int, spki_sha256: str) -> Resident | None:
        """Look the certificate up by issuer + serial, then by SPKI hash."""
        with self._lock:
            row = self._db.execute(
                "SELECT r.facts FROM cert_links c JOIN residents r USING (resident_id)"
                " WHERE (c.issuer = ? AND c.serial = ?) OR c.spki_sha256 = ? LIMIT 1",
                (issuer, format(serial, "x"), spki_sha256),
            ).fetchone()
        return _decode(row[0]) if row else None

    def resident(self, resident_id: str) -> Resident | None:
        """A resident by id."""
        with self._lock:
            row = self._db.execute(
                "SELECT facts FROM residents WHERE resident_id = ?", (resident_id,)
            ).fetchone()
        return _decode(row[0]) if row else None

    def household(self, resident: Resident) -> tuple[Resident, ...]:
        """Members of the resident's household, householder first, then by birth date."""
        with self._lock:
            rows = self._db.execute(
                "SELECT facts FROM residents WHERE household_id = ?", (resident.household_id,)
            ).fetchall()
        members = [_decode(r[0]) for r in rows]
        return tuple(sorted(members, key=lambda m: (m.relationship != "世帯主", m.birth_date)))
