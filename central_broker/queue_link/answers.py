"""Durable retry memory of the queue RPC methods: the answer of each (kiosk, req_id), in the central store.

A kiosk re-sends a `queue.take` or `queue.merge` with the same `req_id` until it has an answer. The retry
may reach another RPC worker (shared subscription) or a central restarted in between, so the answer is kept
in `queue_rpc_answer`, written in the same transaction as the ticket or merge it answers: either both are
committed or neither. A retry reads it back and gets the very same answer (same number, same status token),
never a second number. Two workers running the same request at once cannot both commit: the second one's
answer row collides with the first's (primary key), its transaction rolls back, and it answers from the row.

Rows are kept until `expires_at` (the request's deadline + `KEEP_MS`) and deleted by later writes. A take's
answer holds its status token in clear for that long (the visit row keeps only its hash).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, delete, insert, select

from central_broker.queue.schema import queue_rpc_answer

__all__ = ["KEEP_MS", "RpcAnswers", "StoredAnswer", "merge_subject"]

_logger = logging.getLogger(__name__)

KEEP_MS = 10 * 60 * 1000  # an answer is kept this long past its request's deadline


@dataclass(frozen=True)
class StoredAnswer:
    """What was answered to one (kiosk, req_id)."""

    method: str
    subject: str  # take: the category asked for; merge: a digest of the tickets submitted
    answer: str  # the result's JSON


def merge_subject(tickets: Sequence[tuple[str, int]]) -> str:
    """A digest of a merge request's tickets (number, issued_at), order-independent."""
    canonical = json.dumps(sorted(tickets), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class RpcAnswers:
    """Reads and writes `queue_rpc_answer` on the queue's engine.

    Args:
        engine: the central store's engine (the queue's).
        now_ms: the central clock in epoch milliseconds.
    """

    def __init__(self, engine: Engine, now_ms: Callable[[], int]) -> None:
        self.engine = engine
        self._now_ms = now_ms

    def find(self, device_id: str, req_id: str) -> StoredAnswer | None:
        """The answer already given to this request, if it is still kept."""
        query = select(queue_rpc_answer).where(
            (queue_rpc_answer.c.device_id == device_id)
            & (queue_rpc_answer.c.req_id == req_id[:64])
            & (queue_rpc_answer.c.expires_at >= self._now_ms())
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else StoredAnswer(row.method, row.subject, row.answer)

    def keep(
        self,
        conn: Connection,
        *,
        device_id: str,
        req_id: str,
        method: str,
        subject: str,
        answer: str,
        deadline_ms: int,
    ) -> None:
        """Keep an answer inside the caller's transaction (raises IntegrityError when one is kept already)."""
        now = self._now_ms()
        conn.execute(delete(queue_rpc_answer).where(queue_rpc_answer.c.expires_at < now))
        conn.execute(
            insert(queue_rpc_answer).values(
                device_id=device_id,
                req_id=req_id[:64],
                method=method,
                subject=subject[:64],
                answer=answer,
                expires_at=max(deadline_ms, now) + KEEP_MS,
            )
        )
