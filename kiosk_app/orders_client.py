"""The kiosk side of the semi-self register RPC: `payment.lookup` and `payment.mark_paid` (contract §2 RPC)."""

from __future__ import annotations

import logging

from kiosk_app.rpc_client import RpcClient
from madoguchi.contracts.orders import LookupParams, MarkPaidParams, OrderResult, OrderView, PaidOutcome

__all__ = ["OrdersClient"]

_logger = logging.getLogger(__name__)

LOOKUP = "payment.lookup"
MARK_PAID = "payment.mark_paid"


class OrdersClient:
    """Look up a payment order by its code and report the terminal's result (raises `RpcCallError`/`RpcTimeout`)."""

    def __init__(self, rpc: RpcClient, timeout_s: float = 8.0) -> None:
        self.rpc = rpc
        self.timeout_s = timeout_s

    def lookup(self, order_code: str) -> OrderView:
        """The WAITING order with this code."""
        params = LookupParams(order_code=order_code).model_dump(mode="json")
        return OrderResult.model_validate(self.rpc.call(LOOKUP, params, self.timeout_s)).order

    def mark_paid(
        self,
        order_code: str,
        outcome: PaidOutcome,
        method: str,
        amount_yen: int,
        payment_ref: str,
        req_id: str | None = None,
    ) -> OrderView:
        """Report `paid` (or `unknown`, for staff to resolve) for the order.

        The same `req_id` on every attempt of one report makes a repeat harmless: the central applies it once.
        """
        params = MarkPaidParams(
            order_code=order_code,
            outcome=outcome,
            method=method,
            amount_yen=amount_yen,
            payment_ref=payment_ref,
        ).model_dump(mode="json")
        return OrderResult.model_validate(self.rpc.call(MARK_PAID, params, self.timeout_s, req_id)).order
