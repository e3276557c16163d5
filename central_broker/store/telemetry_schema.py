"""Tables for what kiosks send besides presence: statistics, events, alerts, reported versions, acks.

Registered on the same `metadata` as the presence tables, so `FleetStore.create_schema()` creates
them. `kiosk_stat` is unique on `(device_id, seq)`: a batch delivered twice (redelivery, resend
after a lost `down/ack`, two shared-subscription members) inserts nothing the second time.
`kiosk_stat_progress.through_seq` is the highest contiguous committed seq per device, which the
ingest acknowledges on `down/ack`.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, String, Table, Text

from central_broker.store.schema import metadata

__all__ = [
    "catalog_desired",
    "kiosk_ack",
    "kiosk_alert",
    "kiosk_device_event",
    "kiosk_reported",
    "kiosk_stat",
    "kiosk_stat_progress",
]

kiosk_stat = Table(
    "kiosk_stat",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("ts", BigInteger, nullable=False),  # device time of the usage record
    Column("kind", String(64), nullable=False),
    Column("fields", JSON, nullable=False),  # the kind-specific anonymous fields
    Column("received_at", BigInteger, nullable=False),
)
# PostgreSQL: block-range indexes for the KPI scans by time (tiny, cheap to maintain on append-only rows).
Index("ix_kiosk_stat_ts_brin", kiosk_stat.c.ts, postgresql_using="brin").ddl_if(dialect="postgresql")
Index("ix_kiosk_stat_received_brin", kiosk_stat.c.received_at, postgresql_using="brin").ddl_if(
    dialect="postgresql"
)

kiosk_stat_progress = Table(
    "kiosk_stat_progress",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("through_seq", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

kiosk_device_event = Table(
    "kiosk_device_event",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device_id", String(64), nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("code", String(64), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Column("received_at", BigInteger, nullable=False),
    Index("ix_kiosk_device_event_device_time", "device_id", "received_at"),
)

kiosk_alert = Table(
    "kiosk_alert",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device_id", String(64), nullable=False),
    Column("alert_id", String(64), nullable=False),
    Column("code", String(64), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Column("raised_at", BigInteger, nullable=False),  # device time the alert was raised (or `since`)
    Column("updated_ts", BigInteger, nullable=False),  # device ts of the latest retained message
    Column("cleared_at", BigInteger, nullable=True),  # central time the empty retained payload came
    Column("received_at", BigInteger, nullable=False),
    Index("ix_kiosk_alert_device_alert", "device_id", "alert_id"),
)

kiosk_reported = Table(
    "kiosk_reported",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("catalog_ver", BigInteger, nullable=True),
    Column("app_ver", String(64), nullable=False),
    Column("config_hash", String(128), nullable=False),
    Column("control_ver", BigInteger, nullable=True),  # kill-switch version applied (None: never told)
    Column("received_at", BigInteger, nullable=False),
)

kiosk_ack = Table(
    "kiosk_ack",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device_id", String(64), nullable=False),
    Column("ref", String(128), nullable=False),
    Column("kind", String(16), nullable=False),  # "cmd" | "catalog"
    Column("status", String(32), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Column("ts", BigInteger, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Index("ix_kiosk_ack_device_ref", "device_id", "ref"),
)

catalog_desired = Table(
    "catalog_desired",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("version", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("published_at", BigInteger, nullable=False),
)
