"""Tables of the semi-self register payment orders, on the central store's database (own MetaData).

`payment_rpc_done` remembers which `(device, req_id)` already changed an order, so a retried
`payment.mark_paid` has no second effect (contract §2 RPC: dedupe side effects on (dev, req_id)).
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, MetaData, String, Table, Text

__all__ = ["metadata", "payment_order", "payment_rpc_done"]

metadata = MetaData()

payment_order = Table(
    "payment_order",
    metadata,
    Column("code", String(16), primary_key=True),
    Column("day", String(6), nullable=False),  # Japan date YYMMDD of creation
    Column("seq", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("items", JSON, nullable=False),  # list of {item_id, name, quantity, unit_price_yen}
    Column("methods", JSON, nullable=False),  # accepted payment method ids
    Column("total_yen", Integer, nullable=False),
    Column("catalog_ver", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("device_id", String(64), nullable=True),  # the kiosk that reported the payment
    Column("method", String(64), nullable=True),
    Column("paid_yen", Integer, nullable=True),
    Column("payment_ref", String(64), nullable=True),
    Column("paid_at", BigInteger, nullable=True),
    Column("note", Text, nullable=False, default=""),  # staff notes (resolution, refund)
    Index("ix_payment_order_day_seq", "day", "seq", unique=True),
    Index("ix_payment_order_status", "status", "updated_at"),
)

payment_rpc_done = Table(
    "payment_rpc_done",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("req_id", String(36), primary_key=True),
    Column("order_code", String(16), nullable=False),
    Column("at", BigInteger, nullable=False),
)
