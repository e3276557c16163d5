"""Values of the orders package: an order, its lines, and the errors staff and kiosks see."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from madoguchi.contracts.orders import OrderItemView, OrderStatus, OrderView
from madoguchi.errors import UserError

__all__ = ["Order", "OrderError", "OrderErrorKind", "OrderLine"]


@dataclass(frozen=True)
class OrderLine:
    """One fee item of an order, priced from the catalog when the order was made."""

    item_id: str
    name: str
    quantity: int
    unit_price_yen: int

    @property
    def amount_yen(self) -> int:
        """Quantity × unit price."""
        return self.quantity * self.unit_price_yen


@dataclass(frozen=True)
class Order:
    """A payment order registered by counter staff."""

    code: str
    status: OrderStatus
    lines: tuple[OrderLine, ...]
    methods: tuple[str, ...]
    total_yen: int
    catalog_ver: int
    created_at: int
    created_by: str
    updated_at: int
    device_id: str | None
    method: str | None
    paid_yen: int | None
    payment_ref: str | None
    paid_at: int | None
    note: str

    def view(self) -> OrderView:
        """The order as a kiosk sees it (no staff names or notes)."""
        return OrderView(
            order_code=self.code,
            status=self.status,
            items=[
                OrderItemView(
                    item_id=ln.item_id, name=ln.name, quantity=ln.quantity, unit_price_yen=ln.unit_price_yen
                )
                for ln in self.lines
            ],
            total_yen=self.total_yen,
            methods=list(self.methods),
        )

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form for `kiosk-central orders --json`."""
        return {
            "code": self.code,
            "status": self.status.value,
            "items": [
                {
                    "item_id": ln.item_id,
                    "name": ln.name,
                    "quantity": ln.quantity,
                    "unit_price_yen": ln.unit_price_yen,
                }
                for ln in self.lines
            ],
            "methods": list(self.methods),
            "total_yen": self.total_yen,
            "catalog_ver": self.catalog_ver,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "updated_at": self.updated_at,
            "device_id": self.device_id,
            "method": self.method,
            "paid_yen": self.paid_yen,
            "payment_ref": self.payment_ref,
            "paid_at": self.paid_at,
            "note": self.note,
        }


class OrderErrorKind(enum.StrEnum):
    """Why an order operation was refused (maps to RPC error codes)."""

    INVALID = "INVALID_ARGUMENT"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    REFUSED = "PERMISSION_DENIED"


class OrderError(UserError):
    """An order operation that cannot be done; says what and what to do.

    `message` may hold `%(name)s` placeholders filled from `values`; the unfilled `text` is kept so a page can
    show the message in its own language (it is a msgid of the web catalog).
    """

    def __init__(self, kind: OrderErrorKind, message: str, hint: str = "", **values: object) -> None:
        super().__init__(message % values if values else message, hint)
        self.kind = kind
        self.text = message
        self.values = values
