"""The payment-order RPC over a real Mosquitto: a kiosk looks an order up and reports its payment."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from central_broker.web import WebContext
from kiosk_app.rpc_client import RpcCallError, RpcClient
from madoguchi.contracts.orders import OrderResult, OrderStatus, make_order_code, slip_qr_payload
from madoguchi.contracts.rpc import RpcErrorCode

pytestmark = pytest.mark.mosquitto


def test_kiosk_looks_up_and_pays_an_order_over_mqtt(
    web_context: WebContext, rpc_kiosk: Callable[[str], RpcClient]
) -> None:
    """GIVEN an order registered by staff WHEN a kiosk scans its code, looks it up and reports it paid
    THEN the central shows it paid by that kiosk, and a second lookup is refused as a conflict."""
    order = web_context.orders.create([("joseki", 2), ("inkan_card_reissue", 1)], staff="staff1")
    kiosk = rpc_kiosk("jp-999999-k07")
    found = OrderResult.model_validate(kiosk.call("payment.lookup", {"order_code": order.code}))
    assert found.order.total_yen == 1800 and [i.quantity for i in found.order.items] == [2, 1]
    assert found.order.status is OrderStatus.WAITING and "qr" in found.order.methods
    params = {"order_code": order.code, "method": "emoney", "amount_yen": 1800, "payment_ref": "E-77"}
    paid = OrderResult.model_validate(kiosk.call("payment.mark_paid", params))
    assert paid.order.status is OrderStatus.PAID
    stored = web_context.orders.get(slip_qr_payload(order.code, 1800))
    assert (stored.status, stored.device_id, stored.method, stored.payment_ref) == (
        OrderStatus.PAID,
        "jp-999999-k07",
        "emoney",
        "E-77",
    )
    with pytest.raises(RpcCallError) as info:
        kiosk.call("payment.lookup", {"order_code": order.code})
    assert info.value.code is RpcErrorCode.CONFLICT and "paid" in info.value.message


def test_unknown_orders_and_bad_params_get_contract_errors(
    web_context: WebContext, rpc_kiosk: Callable[[str], RpcClient]
) -> None:
    """GIVEN no such order, or a malformed code WHEN looked up THEN NOT_FOUND or INVALID_ARGUMENT comes back."""
    kiosk = rpc_kiosk("jp-999999-k08")
    with pytest.raises(RpcCallError) as info:
        kiosk.call("payment.lookup", {"order_code": make_order_code("990101", 1)})
    assert info.value.code is RpcErrorCode.NOT_FOUND
    with pytest.raises(RpcCallError) as bad:
        kiosk.call("payment.lookup", {"order_code": "12345"})
    assert bad.value.code is RpcErrorCode.INVALID_ARGUMENT
    order = web_context.orders.create([("joseki", 1)], staff="s")
    wrong = {"order_code": order.code, "method": "qr", "amount_yen": 1, "outcome": "paid"}
    with pytest.raises(RpcCallError) as mismatch:
        kiosk.call("payment.mark_paid", wrong)
    assert mismatch.value.code is RpcErrorCode.INVALID_ARGUMENT and "750" in mismatch.value.message
