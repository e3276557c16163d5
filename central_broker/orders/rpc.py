"""The payment-order RPC methods kiosks call: `payment.lookup` and `payment.mark_paid` (contract §2 RPC).

Params are validated with `madoguchi.contracts.orders`; an `OrderError` becomes an RPC error with
its code (NOT_FOUND, CONFLICT, INVALID_ARGUMENT). Register them on the central `RpcServer` with
`payment_handlers(orders)`.
"""

from __future__ import annotations

import logging

from central_broker.orders.models import OrderError
from central_broker.orders.store import OrderStore
from central_broker.rpc_server import RpcCall, RpcFailure, RpcHandler
from madoguchi.contracts.orders import LookupParams, MarkPaidParams, OrderResult
from madoguchi.contracts.rpc import RpcErrorCode

__all__ = ["LOOKUP", "MARK_PAID", "payment_handlers"]

_logger = logging.getLogger(__name__)

LOOKUP = "payment.lookup"
MARK_PAID = "payment.mark_paid"


def _failure(exc: OrderError) -> RpcFailure:
    return RpcFailure(RpcErrorCode(exc.kind.value), f"{exc.message}; {exc.hint}" if exc.hint else exc.message)


def payment_handlers(orders: OrderStore) -> dict[str, RpcHandler]:
    """Method name → handler for the semi-self register."""

    def lookup(call: RpcCall) -> OrderResult:
        params = LookupParams.model_validate(call.params)
        try:
            return OrderResult(order=orders.lookup(params.order_code).view())
        except OrderError as exc:
            raise _failure(exc) from exc

    def mark_paid(call: RpcCall) -> OrderResult:
        params = MarkPaidParams.model_validate(call.params)
        try:
            order = orders.report_payment(call.device_id, call.req_id, params)
        except OrderError as exc:
            raise _failure(exc) from exc
        return OrderResult(order=order.view())

    return {LOOKUP: lookup, MARK_PAID: mark_paid}
