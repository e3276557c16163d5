"""Payment orders of the semi-self register (R-19, R-20): staff create them, kiosks pay them.

States: WAITING → PAID (kiosk reports paid) | UNKNOWN (kiosk could not tell; no automatic retry)
→ staff resolve UNKNOWN with a note to PAID or back to WAITING; PAID → REFUNDED only when the
catalog's refund policy allows refunds; WAITING → CANCELLED by staff. Every change is one
transaction (SQLite WAL + synchronous=FULL on the central store) before it is acknowledged.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Row, func, insert, or_, select
from sqlalchemy.exc import IntegrityError

from central_broker.orders.models import Order, OrderError, OrderErrorKind, OrderLine
from central_broker.orders.schema import metadata, payment_order
from central_broker.orders.transitions import OrderTransitions
from madoguchi.contracts.base import ContractError
from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.catalog_base import CatalogLookupError, Channel, local_time
from madoguchi.contracts.orders import OrderStatus, make_order_code, parse_slip

__all__ = ["MAX_LINES", "MAX_QUANTITY", "MAX_SEARCH", "OrderStore"]

_logger = logging.getLogger(__name__)

MAX_QUANTITY = 99
MAX_LINES = 20
MAX_SEARCH = 64  # characters of an order search that are used


class OrderStore(OrderTransitions):
    """Payment orders on the central database, priced from a catalog's fee table.

    Args:
        engine: the central store's engine.
        catalog: the catalog in force (fee items, payment methods, refund policy).
        clock: seconds since the Unix epoch.
    """

    def __init__(self, engine: Engine, catalog: Catalog, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.catalog = catalog
        self._clock = clock

    def create_schema(self) -> None:
        """Create missing tables (idempotent)."""
        metadata.create_all(self.engine)

    def _now(self) -> int:
        return int(self._clock() * 1000)

    # --- staff -----------------------------------------------------------------------------------

    def _lines(self, items: Sequence[tuple[str, int]], at: datetime) -> tuple[list[OrderLine], list[str]]:
        if not items:
            raise OrderError(OrderErrorKind.INVALID, "the order has no items", "add at least one fee item")
        if len(items) > MAX_LINES:
            raise OrderError(
                OrderErrorKind.INVALID,
                "%(lines)s lines; at most %(max)s",
                "split the order",
                lines=len(items),
                max=MAX_LINES,
            )
        counter = {m.id for m in self.catalog.payment.methods_for(Channel.COUNTER)}
        methods: set[str] = set(counter)
        lines: list[OrderLine] = []
        for item_id, quantity in items:
            if not 1 <= quantity <= MAX_QUANTITY:
                raise OrderError(
                    OrderErrorKind.INVALID,
                    "quantity %(quantity)s of %(item)r is outside 1..%(max)s",
                    "enter how many copies the resident asked for",
                    quantity=quantity,
                    item=item_id,
                    max=MAX_QUANTITY,
                )
            try:
                item = self.catalog.fee_item(item_id)
                price = self.catalog.fee_item_price(item_id, at)
            except CatalogLookupError as exc:
                raise OrderError(OrderErrorKind.INVALID, str(exc), "pick an item from the fee table") from exc
            methods &= set(item.methods)
            lines.append(OrderLine(item.id, item.names.text("ja"), quantity, price.amount_yen))
        if not methods:
            raise OrderError(
                OrderErrorKind.INVALID,
                "no payment method accepts every item of this order",
                "register the items as separate orders",
            )
        order = [m.id for m in self.catalog.payment.methods if m.id in methods]
        return lines, order

    def create(self, items: Sequence[tuple[str, int]], *, staff: str) -> Order:
        """Register an order of `(fee item id, quantity)` pairs at today's fees.

        Raises:
            OrderError: unknown item, no fee in force, bad quantity, no common payment method.
        """
        now = self._now()
        at = datetime.fromtimestamp(now / 1000, UTC)
        lines, methods = self._lines(items, at)
        day = local_time(at).strftime("%y%m%d")
        total = sum(line.amount_yen for line in lines)
        for _attempt in range(5):
            try:
                with self.engine.begin() as conn:
                    last = conn.execute(
                        select(func.max(payment_order.c.seq)).where(payment_order.c.day == day)
                    ).scalar()
                    seq = (last or 0) + 1
                    if seq > 9999:
                        raise OrderError(
                            OrderErrorKind.CONFLICT, "9999 orders today; no codes left", "try tomorrow"
                        )
                    code = make_order_code(day, seq)
                    conn.execute(
                        insert(payment_order).values(
                            code=code,
                            day=day,
                            seq=seq,
                            status=OrderStatus.WAITING.value,
                            items=[line.__dict__ for line in lines],
                            methods=methods,
                            total_yen=total,
                            catalog_ver=self.catalog.version,
                            created_at=now,
                            created_by=staff,
                            updated_at=now,
                            note="",
                        )
                    )
                _logger.info("order %s created by %s: %d lines, %d yen", code, staff, len(lines), total)
                return self.get(code)
            except IntegrityError:
                continue  # another process took the same sequence number
        raise OrderError(OrderErrorKind.CONFLICT, "could not allocate an order code", "try again")

    def get(self, code: str) -> Order:
        """One order by code (a scanned QR payload or lower-case code works too).

        Raises:
            OrderError: no such order, or not an order code.
        """
        try:
            key = parse_slip(code)
        except ContractError as exc:
            raise OrderError(OrderErrorKind.INVALID, str(exc), "check the code on the slip") from exc
        with self.engine.connect() as conn:
            row = conn.execute(select(payment_order).where(payment_order.c.code == key)).first()
        if row is None:
            raise OrderError(
                OrderErrorKind.NOT_FOUND, "there is no order %(code)s", "check the code on the slip", code=key
            )
        return _order(row)

    def orders(
        self, status: OrderStatus | None = None, limit: int = 100, *, search: str = "", offset: int = 0
    ) -> list[Order]:
        """Latest orders, newest first, optionally of one status and matching `search`.

        `search` matches part of the order code or of the kiosk's payment reference, whatever the case; a
        scanned slip (QR payload) finds its order. `offset` skips that many of the newest matches (pages).
        """
        query = (
            select(payment_order)
            .order_by(payment_order.c.created_at.desc(), payment_order.c.code.desc())
            .limit(limit)
            .offset(max(0, offset))
        )
        if status is not None:
            query = query.where(payment_order.c.status == status.value)
        if text := search.strip()[:MAX_SEARCH]:
            with contextlib.suppress(ContractError):
                text = parse_slip(text)  # a QR payload or a lower-case code: its order code
            needle = text.upper()
            query = query.where(
                or_(
                    func.upper(payment_order.c.code).contains(needle, autoescape=True),
                    func.upper(payment_order.c.payment_ref).contains(needle, autoescape=True),
                )
            )
        with self.engine.connect() as conn:
            return [_order(row) for row in conn.execute(query)]

    def last_change(self) -> tuple[int, int]:
        """(number of orders, latest update time): changes whenever any order changes."""
        with self.engine.connect() as conn:
            row = conn.execute(select(func.count(), func.max(payment_order.c.updated_at))).one()
        return int(row[0]), int(row[1] or 0)


def _order(row: Row[Any]) -> Order:
    return Order(
        code=row.code,
        status=OrderStatus(row.status),
        lines=tuple(OrderLine(**line) for line in row.items),
        methods=tuple(row.methods),
        total_yen=row.total_yen,
        catalog_ver=row.catalog_ver,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        device_id=row.device_id,
        method=row.method,
        paid_yen=row.paid_yen,
        payment_ref=row.payment_ref,
        paid_at=row.paid_at,
        note=row.note,
    )
