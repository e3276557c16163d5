"""Semi-self register payment orders: created by counter staff, looked up and paid by kiosks over RPC."""

from __future__ import annotations

from central_broker.orders.models import Order, OrderError, OrderErrorKind, OrderLine
from central_broker.orders.store import MAX_LINES, MAX_QUANTITY, OrderStore

__all__ = ["MAX_LINES", "MAX_QUANTITY", "Order", "OrderError", "OrderErrorKind", "OrderLine", "OrderStore"]
