"""`PrefillStore`: the basic four attached to a visit, sealed at rest, readable only while the visit lasts.

Rows are deleted in the transaction that ends the visit (`QueueService.visit_end_hooks`), by `sweep()`
once past midnight JST or once their visit ended (run at start-up and periodically), and never read after
`expires_at` even before a sweep. Nothing here logs the data.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, delete, insert, select

from central_broker.issuance.vault import Vault
from central_broker.prefill.schema import metadata, prefill_visit
from central_broker.queue import Desk, QueueService, StopState, Visit, VisitState
from central_broker.queue.days import day_end_ms
from central_broker.queue.schema import queue_visit
from madoguchi.contracts.catalog_base import tokyo
from madoguchi.contracts.prefill import PrefillFields

__all__ = ["PrefillStore", "PrefilledVisit", "counter_may_see", "midnight_after"]

_logger = logging.getLogger(__name__)

SHOWN_STATES = (StopState.CALLED, StopState.SERVING)


def midnight_after(now_ms: int) -> int:
    """Epoch ms of the next midnight, Japan time."""
    day = datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(tokyo()).date().isoformat()
    return day_end_ms(day)


def counter_may_see(queue: QueueService, desk: Desk, visit_id: int) -> Visit | None:
    """The visit when `desk` holds it called or being served now (else None: nothing may be shown)."""
    status = next((d for d in queue.desks(desk.branch) if d.desk == desk), None)
    if status is None or status.visit_id != visit_id:
        return None
    visit = queue.visit(visit_id)
    stop = visit.current
    if visit.state is not VisitState.ACTIVE or stop is None:
        return None
    if stop.counter != desk.counter or stop.state not in SHOWN_STATES:
        return None
    return visit


@dataclass(frozen=True, repr=False)
class PrefilledVisit:
    """What the counter page shows: the procedures (catalog ids) and the basic four."""

    visit_id: int
    procedures: tuple[str, ...]
    fields: PrefillFields
    attached_at: int

    def __repr__(self) -> str:
        return f"PrefilledVisit(visit_id={self.visit_id}, <personal data>)"


def _aad(visit_id: int) -> str:
    return f"prefill:{visit_id}"


class PrefillStore:
    """Sealed basic-four rows per visit on the central store's engine.

    Args:
        engine: the central store's engine (the queue's, so visit ends delete in the same transaction).
        key: the 32-byte AES-256-GCM key (`load_prefill_key`).
        clock: seconds since the Unix epoch (the queue's clock in tests).
    """

    def __init__(self, engine: Engine, key: bytes, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self._vault = Vault(key)
        self._clock = clock

    def create_schema(self) -> None:
        """Create the table if missing (idempotent)."""
        metadata.create_all(self.engine)

    def install(self, queue: QueueService) -> None:
        """Delete a visit's row in the transaction that ends the visit."""
        queue.visit_end_hooks.append(self.forget_in)

    def now_ms(self) -> int:
        """The store's clock in epoch ms."""
        return int(self._clock() * 1000)

    def attach(self, visit: Visit, procedures: Sequence[str], fields: PrefillFields) -> int:
        """Keep `fields` for `visit` (replacing an earlier attach); returns when it expires (epoch ms)."""
        now = self.now_ms()
        expires = midnight_after(now)
        plain = fields.model_dump_json().encode("utf-8")
        row = {
            "visit_id": visit.id,
            "branch": visit.branch,
            "procedures": ",".join(procedures),
            "sealed": self._vault.seal(_aad(visit.id), plain),
            "attached_at": now,
            "expires_at": expires,
        }
        with self.engine.begin() as conn:
            conn.execute(delete(prefill_visit).where(prefill_visit.c.visit_id == visit.id))
            conn.execute(insert(prefill_visit).values(**row))
        _logger.info("prefill kept for visit %s (%d procedures)", visit.number, len(procedures))
        return expires

    def has(self, visit_id: int) -> bool:
        """True when unexpired data is attached to the visit."""
        with self.engine.connect() as conn:
            found = conn.execute(
                select(prefill_visit.c.visit_id).where(
                    (prefill_visit.c.visit_id == visit_id) & (prefill_visit.c.expires_at > self.now_ms())
                )
            ).first()
        return found is not None

    def read(self, visit_id: int) -> PrefilledVisit | None:
        """The data attached to the visit, or None (none, expired, or sealed with another key)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(prefill_visit).where(
                    (prefill_visit.c.visit_id == visit_id) & (prefill_visit.c.expires_at > self.now_ms())
                )
            ).first()
        if row is None:
            return None
        plain = self._vault.open(_aad(visit_id), bytes(row.sealed))
        if plain is None:
            _logger.warning("prefill of visit id %d cannot be opened with this key: deleted", visit_id)
            self.forget(visit_id)
            return None
        fields = PrefillFields.model_validate(json.loads(plain))
        procedures = tuple(p for p in str(row.procedures).split(",") if p)
        return PrefilledVisit(visit_id, procedures, fields, row.attached_at)

    def forget_in(self, conn: Connection, visit_id: int) -> None:
        """Delete the visit's row inside `conn`'s transaction (the visit-end hook)."""
        gone = conn.execute(delete(prefill_visit).where(prefill_visit.c.visit_id == visit_id)).rowcount
        if gone:
            _logger.info("prefill of visit id %d deleted: the visit ended", visit_id)

    def forget(self, visit_id: int) -> None:
        """Delete the visit's row."""
        with self.engine.begin() as conn:
            self.forget_in(conn, visit_id)

    def sweep(self) -> int:
        """Delete rows past midnight JST and rows whose visit ended or is gone; returns how many."""
        now = self.now_ms()
        with self.engine.begin() as conn:
            live = select(queue_visit.c.id).where(queue_visit.c.state == VisitState.ACTIVE.value)
            gone = conn.execute(
                delete(prefill_visit).where(
                    (prefill_visit.c.expires_at <= now) | prefill_visit.c.visit_id.not_in(live)
                )
            ).rowcount
        if gone:
            _logger.info("prefill sweep: %d deleted", gone)
        return int(gone or 0)
