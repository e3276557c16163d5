"""The centre's durable copy of what it publishes retained, and the kill-switch history (mixed into `FleetStore`).

The broker's retained messages are a cache: a Mosquitto restart without persistence, a new broker
node or a wiped persistence file loses them, and kiosks that connect afterwards would get no keys,
no catalog and no kill switch. So every retained fleet document the centre publishes is kept here
byte for byte (`fleet_retained`, one row per topic; an empty payload deletes the row), and the centre
publishes them all again on start-up and whenever it reconnects to the broker
(`central_broker.catalog_push.retained.RetainedKeeper`).

`fleet_control` is the authority for the kill switch (`fleet/control`, R-11): one row per version
ever signed, written before the document is published, so the next version is always above every
version any kiosk could hold — whatever the broker remembers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Column, Engine, LargeBinary, String, Table, delete, func, select

from central_broker.store.schema import metadata
from central_broker.store.telemetry_schema import kiosk_reported

__all__ = ["ControlRecord", "FleetDocumentStore", "fleet_control", "fleet_retained"]

fleet_retained = Table(
    "fleet_retained",
    metadata,
    Column("topic", String(255), primary_key=True),
    Column("payload", LargeBinary, nullable=False),
    Column("published_at", BigInteger, nullable=False),  # central epoch ms
)

fleet_control = Table(
    "fleet_control",
    metadata,
    Column("version", BigInteger, primary_key=True),
    Column("body", LargeBinary, nullable=False),  # the ControlDocument's JSON
    Column("envelope", LargeBinary, nullable=False),  # the signed DSSE envelope published
    Column("actor", String(128), nullable=False),
    Column("created_at", BigInteger, nullable=False),  # central epoch ms
)


@dataclass(frozen=True)
class ControlRecord:
    """One signed version of the kill-switch document."""

    version: int
    body: bytes
    envelope: bytes
    actor: str
    created_at: int


class FleetDocumentStore:
    """Reads and writes of `fleet_retained` and `fleet_control` (mixed into `FleetStore`)."""

    engine: Engine

    def _insert(self) -> Any:  # pragma: no cover - provided by FleetStore
        raise NotImplementedError

    def now_ms(self) -> int:  # pragma: no cover - provided by FleetStore
        raise NotImplementedError

    # --- retained documents -----------------------------------------------------------------------

    def record_retained(self, messages: Iterable[tuple[str, bytes]]) -> None:
        """Remember retained messages as published (an empty payload clears its topic)."""
        now = self.now_ms()
        with self.engine.begin() as conn:
            for topic, payload in messages:
                if not payload:
                    conn.execute(delete(fleet_retained).where(fleet_retained.c.topic == topic))
                    continue
                values = {"payload": payload, "published_at": now}
                statement = self._insert()(fleet_retained).values(topic=topic, **values)
                conn.execute(
                    statement.on_conflict_do_update(index_elements=[fleet_retained.c.topic], set_=values)
                )

    def retained_documents(self) -> list[tuple[str, bytes]]:
        """Every retained document the centre published and has not cleared, by topic."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(fleet_retained.c.topic, fleet_retained.c.payload).order_by(fleet_retained.c.topic)
            )
            return [(r.topic, bytes(r.payload)) for r in rows]

    def retained_document(self, topic: str) -> bytes | None:
        """The payload last published retained on `topic`, or None."""
        with self.engine.connect() as conn:
            payload = conn.execute(
                select(fleet_retained.c.payload).where(fleet_retained.c.topic == topic)
            ).scalar()
        return None if payload is None else bytes(payload)

    # --- kill switch ------------------------------------------------------------------------------

    def record_control(self, version: int, body: bytes, envelope: bytes, actor: str) -> None:
        """Keep a signed control version (raises IntegrityError if the version was used before)."""
        with self.engine.begin() as conn:
            conn.execute(
                fleet_control.insert().values(
                    version=version, body=body, envelope=envelope, actor=actor[:128], created_at=self.now_ms()
                )
            )

    def control_current(self) -> ControlRecord | None:
        """The newest signed control version, or None before the first."""
        history = self.control_history(1)
        return history[0] if history else None

    def control_history(self, limit: int = 20) -> list[ControlRecord]:
        """Signed control versions, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(fleet_control).order_by(fleet_control.c.version.desc()).limit(limit))
            return [
                ControlRecord(r.version, bytes(r.body), bytes(r.envelope), r.actor, r.created_at)
                for r in rows
            ]

    def control_versions_reported(self) -> dict[str, int | None]:
        """Kiosk → the control version it last reported applying (`up/reported`)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(kiosk_reported.c.device_id, kiosk_reported.c.control_ver))
            return {r.device_id: r.control_ver for r in rows}

    def highest_control_reported(self) -> int:
        """The highest control version any kiosk reported (0 when none did)."""
        with self.engine.connect() as conn:
            value = conn.execute(select(func.max(kiosk_reported.c.control_ver))).scalar()
        return int(value or 0)
