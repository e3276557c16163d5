"""When the centre last signed each retained fleet document, so it can re-sign before expiry.

Retained signed documents expire (`fleet/keys` after a year, a catalog's manifest and `down/desired`
after 14 days). `fleet_signed` has one row per document family: `keys`, and `catalog:<version>` with
the release's hash and length — enough to sign the manifest and desired documents again without the
body. `SignedDocumentStore` is mixed into `FleetStore`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Column, Engine, String, Table, select

from central_broker.store.schema import metadata
from central_broker.store.telemetry_schema import catalog_desired

__all__ = ["KEYS_DOCUMENT", "SignedDocumentStore", "SignedRecord", "catalog_document", "fleet_signed"]

KEYS_DOCUMENT = "keys"

fleet_signed = Table(
    "fleet_signed",
    metadata,
    Column("name", String(80), primary_key=True),  # "keys" | "catalog:<version>"
    Column("version", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=True),
    Column("length", BigInteger, nullable=True),
    Column("signed_at", BigInteger, nullable=False),  # central epoch ms
    Column("expires", BigInteger, nullable=False),  # epoch ms, as written in the document
)


def catalog_document(version: int) -> str:
    """The `fleet_signed` name of a catalog release's documents."""
    return f"catalog:{version}"


@dataclass(frozen=True)
class SignedRecord:
    """One signed document family and when it was last signed (epoch ms)."""

    name: str
    version: int
    sha256: str | None
    length: int | None
    signed_at: int
    expires: int

    @property
    def is_catalog(self) -> bool:
        """True for a catalog release (manifest + desired documents)."""
        return self.name.startswith("catalog:")


class SignedDocumentStore:
    """Reads and writes of `fleet_signed` (mixed into `FleetStore`)."""

    engine: Engine

    def _insert(self) -> Any:  # pragma: no cover - provided by FleetStore
        raise NotImplementedError

    def record_signed(self, record: SignedRecord) -> None:
        """Remember that `record.name` was (re-)signed."""
        values = {
            "version": record.version,
            "sha256": record.sha256,
            "length": record.length,
            "signed_at": record.signed_at,
            "expires": record.expires,
        }
        statement = self._insert()(fleet_signed).values(name=record.name, **values)
        with self.engine.begin() as conn:
            conn.execute(statement.on_conflict_do_update(index_elements=[fleet_signed.c.name], set_=values))

    def signed_documents(self) -> list[SignedRecord]:
        """Every signed document family, by name."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(fleet_signed).order_by(fleet_signed.c.name))
            return [SignedRecord(r.name, r.version, r.sha256, r.length, r.signed_at, r.expires) for r in rows]

    def desired_devices(self) -> dict[int, list[str]]:
        """Catalog version → the kiosks whose `down/desired` names it."""
        devices: dict[int, list[str]] = defaultdict(list)
        query = select(catalog_desired.c.device_id, catalog_desired.c.version).order_by(
            catalog_desired.c.device_id
        )
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                devices[row.version].append(row.device_id)
        return dict(devices)
