"""Diagnostics bundles kiosks upload on `up/diag` (answering `collect_logs`), stored part by part.

A bundle is complete when all its parts are in; parts delivered twice are stored once (primary key
device, command, part). `DiagnosticsStore` is mixed into `FleetStore`.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Column, Engine, Integer, LargeBinary, String, Table, select

from central_broker.store.schema import metadata
from madoguchi.contracts.messages import DiagnosticsPart

__all__ = ["DiagnosticsRecord", "DiagnosticsStore", "kiosk_diag_part"]

kiosk_diag_part = Table(
    "kiosk_diag_part",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("cmd_id", String(64), primary_key=True),
    Column("part", Integer, primary_key=True),
    Column("parts", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("received_at", BigInteger, nullable=False),
)


@dataclass(frozen=True)
class DiagnosticsRecord:
    """One uploaded bundle: how many parts arrived of how many, total bytes, when the last came."""

    device_id: str
    cmd_id: str
    parts: int
    received: int
    size: int
    received_at: int

    @property
    def complete(self) -> bool:
        """All parts are in."""
        return self.received == self.parts

    def to_dict(self) -> dict[str, object]:
        """For `--json`."""
        return {
            "device_id": self.device_id,
            "cmd_id": self.cmd_id,
            "parts": self.parts,
            "received": self.received,
            "complete": self.complete,
            "size": self.size,
            "received_at": self.received_at,
        }


class DiagnosticsStore:
    """Writes and reads of `kiosk_diag_part` (mixed into `FleetStore`)."""

    engine: Engine

    def now_ms(self) -> int:  # pragma: no cover - provided by FleetStore
        """Central clock in epoch ms."""
        raise NotImplementedError

    def _insert(self) -> Any:  # pragma: no cover - provided by FleetStore
        raise NotImplementedError

    def record_diag_part(self, device_id: str, message: DiagnosticsPart) -> None:
        """Store one part (a redelivered part changes nothing)."""
        statement = self._insert()(kiosk_diag_part).values(
            device_id=device_id,
            cmd_id=message.cmd_id,
            part=message.part,
            parts=message.parts,
            data=base64.b64decode(message.data),
            ts=message.ts,
            received_at=self.now_ms(),
        )
        with self.engine.begin() as conn:
            conn.execute(statement.on_conflict_do_nothing())

    def diagnostics(self, device_id: str | None = None) -> list[DiagnosticsRecord]:
        """Uploaded bundles, oldest first."""
        table = kiosk_diag_part
        query = select(table.c.device_id, table.c.cmd_id, table.c.parts, table.c.data, table.c.received_at)
        if device_id is not None:
            query = query.where(table.c.device_id == device_id)
        bundles: dict[tuple[str, str], list[Any]] = defaultdict(list)
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                bundles[(row.device_id, row.cmd_id)].append(row)
        records = [
            DiagnosticsRecord(
                dev,
                cmd,
                rows[0].parts,
                len(rows),
                sum(len(r.data) for r in rows),
                max(r.received_at for r in rows),
            )
            for (dev, cmd), rows in bundles.items()
        ]
        return sorted(records, key=lambda r: r.received_at)

    def diagnostics_bundle(self, device_id: str, cmd_id: str) -> bytes | None:
        """The gzip bundle, or None while parts are missing (or it never came)."""
        table = kiosk_diag_part
        query = (
            select(table.c.part, table.c.parts, table.c.data)
            .where(table.c.device_id == device_id, table.c.cmd_id == cmd_id)
            .order_by(table.c.part)
        )
        with self.engine.connect() as conn:
            rows = list(conn.execute(query))
        if not rows or len(rows) != rows[0].parts:
            return None
        return b"".join(r.data for r in rows)
