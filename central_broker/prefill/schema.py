"""The prefill table, on the central store's database (own MetaData, like the queue's).

One row per visit: the basic four sealed with AES-256-GCM (`sealed`, the visit id as associated data), the
procedure ids whose forms it fills (not personal), and when it must be gone at the latest (midnight JST).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, MetaData, String, Table

__all__ = ["metadata", "prefill_visit"]

metadata = MetaData()

prefill_visit = Table(
    "prefill_visit",
    metadata,
    Column("visit_id", Integer, primary_key=True, autoincrement=False),  # queue_visit.id
    Column("branch", String(64), nullable=False),
    Column("procedures", String(1000), nullable=False),  # catalog ids, comma-separated
    Column("sealed", LargeBinary, nullable=False),
    Column("attached_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),  # midnight JST after attaching
    Index("ix_prefill_visit_expires", "expires_at"),
)
