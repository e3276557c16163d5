"""Tables of the central store (SQLAlchemy Core; the same schema on SQLite and PostgreSQL).

`kiosk_state` is the authority on device presence (contract §3); the retained `up/state` topic
is only a cache. Times are epoch milliseconds: `*_ts` from the device's clock, `received_at`,
`last_seen` and `since` from the central clock.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, MetaData, String, Table, Text

__all__ = ["kiosk_event", "kiosk_health", "kiosk_state", "metadata"]

metadata = MetaData()

kiosk_state = Table(
    "kiosk_state",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("status", String(16), nullable=False),  # "online" | "offline" (stale is derived)
    Column("epoch", BigInteger, nullable=True),  # epoch of the latest accepted birth
    Column("offline_epoch", BigInteger, nullable=True),  # epoch carried by the accepted offline
    Column("offline_reason", String(16), nullable=True),
    Column("boot_id", String(64), nullable=True),
    Column("app_ver", String(64), nullable=True),
    Column("catalog_ver", BigInteger, nullable=True),
    Column("last_state_ts", BigInteger, nullable=True),
    Column("last_seen", BigInteger, nullable=False),
    Column("since", BigInteger, nullable=False),  # when `status` last changed
    Column("first_seen", BigInteger, nullable=False),
    Column("branch", String(64), nullable=True),  # branch office from the latest birth
)

kiosk_health = Table(
    "kiosk_health",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("epoch", BigInteger, nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Column("payload", JSON, nullable=False),  # the validated HealthMessage
)

kiosk_event = Table(
    "kiosk_event",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device_id", String(64), nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Column("ts", BigInteger, nullable=True),  # device time when the event came from the device
    Column("code", String(64), nullable=False),
    Column("epoch", BigInteger, nullable=True),
    Column("detail", Text, nullable=False, default=""),
    Index("ix_kiosk_event_device_time", "device_id", "received_at"),
)
