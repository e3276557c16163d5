"""State changes of payment orders after creation: staff resolve, refund, cancel; kiosks look up and pay.

A mixin of `OrderStore` (kept apart to keep each module small); see `store` for the state diagram.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Engine, insert, select, update

from central_broker.orders.models import Order, OrderError, OrderErrorKind
from central_broker.orders.schema import payment_order, payment_rpc_done
from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.orders import MarkPaidParams, OrderStatus, PaidOutcome

__all__ = ["OrderTransitions"]

_logger = logging.getLogger(__name__)


class OrderTransitions:
    """Transitions of an order; needs `engine`, `catalog`, `_now()` and `get()` from `OrderStore`."""

    engine: Engine
    catalog: Catalog

    def _now(self) -> int:  # pragma: no cover - provided by OrderStore
        raise NotImplementedError

    def get(self, code: str) -> Order:  # pragma: no cover - provided by OrderStore
        raise NotImplementedError

    def _transition(self, code: str, allowed: set[OrderStatus], values: dict[str, Any], what: str) -> Order:
        order = self.get(code)
        if order.status not in allowed:
            raise OrderError(
                OrderErrorKind.CONFLICT,
                "order %(code)s is %(status)s; it cannot be %(what)s",
                "reload the order list",
                code=order.code,
                status=order.status.value,
                what=what,
            )
        values = {"updated_at": self._now(), **values}
        with self.engine.begin() as conn:
            result = conn.execute(
                update(payment_order)
                .where(payment_order.c.code == order.code, payment_order.c.status == order.status.value)
                .values(**values)
            )
        if result.rowcount != 1:
            raise OrderError(
                OrderErrorKind.CONFLICT,
                "order %(code)s changed meanwhile",
                "reload and retry",
                code=order.code,
            )
        return self.get(order.code)

    @staticmethod
    def _note(order: Order, staff: str, text: str) -> str:
        line = f"[{staff}] {text.strip()}"
        return f"{order.note}\n{line}" if order.note else line

    def resolve(self, code: str, *, paid: bool, note: str, staff: str) -> Order:
        """Settle an UNKNOWN payment: `paid` (the terminal's journal shows it) or back to WAITING.

        Raises:
            OrderError: not UNKNOWN, or no note.
        """
        if not note.strip():
            raise OrderError(
                OrderErrorKind.INVALID, "a resolution needs a note", "say what the terminal showed"
            )
        order = self.get(code)
        status = OrderStatus.PAID if paid else OrderStatus.WAITING
        text = f"resolved as {status.value}: {note}"
        return self._transition(
            code,
            {OrderStatus.UNKNOWN},
            {"status": status.value, "note": self._note(order, staff, text)},
            "resolved",
        )

    def refund(self, code: str, *, note: str, staff: str) -> Order:
        """Refund a paid order, only where the catalog's refund policy allows it.

        Raises:
            OrderError: the policy refuses refunds (its text is the message), not PAID, or no note.
        """
        policy = self.catalog.payment.refund
        if not policy.refunds:
            raise OrderError(
                OrderErrorKind.REFUSED, policy.text.text("ja"), "no refund is given (catalog policy)"
            )
        if not note.strip():
            raise OrderError(OrderErrorKind.INVALID, "a refund needs a note", "say why the fee is returned")
        order = self.get(code)
        values = {"status": OrderStatus.REFUNDED.value, "note": self._note(order, staff, f"refund: {note}")}
        return self._transition(code, {OrderStatus.PAID}, values, "refunded")

    def cancel(self, code: str, *, note: str, staff: str) -> Order:
        """Withdraw an unpaid order."""
        order = self.get(code)
        values = {
            "status": OrderStatus.CANCELLED.value,
            "note": self._note(order, staff, f"cancelled: {note}"),
        }
        return self._transition(code, {OrderStatus.WAITING}, values, "cancelled")

    # --- kiosks (RPC) ----------------------------------------------------------------------------

    def lookup(self, code: str) -> Order:
        """The order a kiosk is about to take payment for; refused unless it is WAITING."""
        order = self.get(code)
        if order.status is not OrderStatus.WAITING:
            raise OrderError(
                OrderErrorKind.CONFLICT,
                "order %(code)s is %(status)s, not waiting for payment",
                "send the resident to the counter",
                code=order.code,
                status=order.status.value,
            )
        return order

    def report_payment(self, device_id: str, req_id: str, params: MarkPaidParams) -> Order:
        """Record a kiosk's payment result once per `(device_id, req_id)`.

        Raises:
            OrderError: unknown order, not WAITING, method not accepted, amount differs.
        """
        with self.engine.connect() as conn:
            done = conn.execute(
                select(payment_rpc_done.c.order_code).where(
                    payment_rpc_done.c.device_id == device_id, payment_rpc_done.c.req_id == req_id
                )
            ).first()
        if done is not None:
            return self.get(done.order_code)  # a retry of a request already applied
        order = self.lookup(params.order_code)
        if params.method not in order.methods:
            raise OrderError(
                OrderErrorKind.INVALID,
                "method %(method)r is not accepted for order %(code)s (%(methods)s)",
                "offer only the order's methods",
                method=params.method,
                code=order.code,
                methods=", ".join(order.methods),
            )
        if params.amount_yen != order.total_yen:
            raise OrderError(
                OrderErrorKind.INVALID,
                "amount %(amount)s yen differs from the order total %(total)s yen",
                "charge the total the lookup returned",
                amount=params.amount_yen,
                total=order.total_yen,
            )
        status = OrderStatus.PAID if params.outcome is PaidOutcome.PAID else OrderStatus.UNKNOWN
        now = self._now()
        with self.engine.begin() as conn:
            result = conn.execute(
                update(payment_order)
                .where(
                    payment_order.c.code == order.code, payment_order.c.status == OrderStatus.WAITING.value
                )
                .values(
                    status=status.value,
                    updated_at=now,
                    device_id=device_id,
                    method=params.method,
                    paid_yen=params.amount_yen,
                    payment_ref=params.payment_ref,
                    paid_at=now if status is OrderStatus.PAID else None,
                )
            )
            if result.rowcount != 1:
                raise OrderError(
                    OrderErrorKind.CONFLICT, "order %(code)s changed meanwhile", "ask staff", code=order.code
                )
            conn.execute(
                insert(payment_rpc_done).values(
                    device_id=device_id, req_id=req_id, order_code=order.code, at=now
                )
            )
        _logger.info("order %s %s at %s (%s)", order.code, status.value, device_id, params.method)
        return self.get(order.code)
