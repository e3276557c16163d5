"""Semi-self register orders: priced from the catalog's fee table, paid once by a kiosk, UNKNOWN resolved by
staff with a note, refunds only by the catalog's policy; the order code catches typing errors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from central_broker.orders import OrderError, OrderErrorKind, OrderStore
from central_broker.store import FleetStore
from madoguchi.clock import SteppableClock
from madoguchi.contracts.base import ContractError
from madoguchi.contracts.catalog import Catalog, load_sample_catalog
from madoguchi.contracts.catalog_base import Channel
from madoguchi.contracts.orders import (
    MarkPaidParams,
    OrderStatus,
    PaidOutcome,
    parse_slip,
    slip_qr_payload,
    valid_order_code,
)

DEVICE = "jp-999999-k01"


@pytest.fixture
def catalog() -> Catalog:
    return load_sample_catalog()


@pytest.fixture
def orders(central_store: FleetStore, store_clock: SteppableClock, catalog: Catalog) -> OrderStore:
    store = OrderStore(central_store.engine, catalog, clock=store_clock)
    store.create_schema()
    return store


def _paid(
    order_code: str, amount: int, method: str = "qr", outcome: PaidOutcome = PaidOutcome.PAID
) -> MarkPaidParams:
    return MarkPaidParams(
        order_code=order_code, outcome=outcome, method=method, amount_yen=amount, payment_ref="T-0001"
    )


def test_order_is_priced_from_the_fee_table_with_a_checked_code(orders: OrderStore, catalog: Catalog) -> None:
    """GIVEN 2 住民票 at the counter and 1 除籍 WHEN registered THEN lines carry today's counter fees and the sum."""
    now = datetime.now(UTC)
    juminhyo = catalog.fee_for("juminhyo", now, Channel.COUNTER).amount_yen
    order = orders.create([("juminhyo_counter", 2), ("joseki", 1)], staff="staff1")
    assert [(ln.item_id, ln.quantity, ln.unit_price_yen) for ln in order.lines] == [
        ("juminhyo_counter", 2, juminhyo),
        ("joseki", 1, 750),
    ]
    assert order.total_yen == 2 * juminhyo + 750
    assert order.status is OrderStatus.WAITING and order.created_by == "staff1"
    assert valid_order_code(order.code) and order.methods == ("cash", "credit", "emoney", "qr")
    second = orders.create([("joseki", 1)], staff="staff1")
    assert int(second.code[7:11]) == int(order.code[7:11]) + 1


def test_a_mistyped_order_code_is_caught_by_its_check_digit(orders: OrderStore) -> None:
    """GIVEN a real code WHEN one digit is changed THEN it is refused as not an order code (not 'not found')."""
    code = orders.create([("joseki", 1)], staff="s").code
    wrong = code[:-2] + str((int(code[-2]) + 1) % 10) + code[-1]
    with pytest.raises(OrderError) as info:
        orders.get(wrong)
    assert info.value.kind is OrderErrorKind.INVALID
    assert parse_slip(slip_qr_payload(code, 750)) == code
    assert parse_slip(f"  {code.lower()} ") == code
    with pytest.raises(ContractError):
        parse_slip("MDG1:P123:5")


def test_bad_items_are_refused_with_what_to_do(orders: OrderStore) -> None:
    """GIVEN an unknown item, quantity 0 or no items WHEN registered THEN each error names the problem."""
    with pytest.raises(OrderError, match="no_such_item"):
        orders.create([("no_such_item", 1)], staff="s")
    with pytest.raises(OrderError, match=r"outside 1\.\.99"):
        orders.create([("joseki", 0)], staff="s")
    with pytest.raises(OrderError, match="no items"):
        orders.create([], staff="s")
    assert orders.orders() == []


def test_kiosk_payment_marks_the_order_paid_once(orders: OrderStore) -> None:
    """GIVEN a waiting order WHEN a kiosk reports it paid, then retries the same request THEN it is paid once;
    a second payment with a new request is refused as a conflict (no double charge)."""
    order = orders.create([("joseki", 2)], staff="s")
    assert orders.lookup(order.code).total_yen == 1500
    req = str(uuid.uuid4())
    paid = orders.report_payment(DEVICE, req, _paid(order.code, 1500))
    assert paid.status is OrderStatus.PAID and paid.device_id == DEVICE and paid.method == "qr"
    again = orders.report_payment(DEVICE, req, _paid(order.code, 1500))
    assert again.status is OrderStatus.PAID and again.updated_at == paid.updated_at
    with pytest.raises(OrderError) as info:
        orders.report_payment(DEVICE, str(uuid.uuid4()), _paid(order.code, 1500))
    assert info.value.kind is OrderErrorKind.CONFLICT
    with pytest.raises(OrderError, match="not waiting"):
        orders.lookup(order.code)


def test_wrong_amount_or_method_is_refused(orders: OrderStore) -> None:
    """GIVEN a 750 yen order WHEN a kiosk reports 700 yen or an unknown method THEN nothing changes."""
    order = orders.create([("joseki", 1)], staff="s")
    with pytest.raises(OrderError, match="differs from the order total 750"):
        orders.report_payment(DEVICE, str(uuid.uuid4()), _paid(order.code, 700))
    with pytest.raises(OrderError, match="not accepted"):
        orders.report_payment(DEVICE, str(uuid.uuid4()), _paid(order.code, 750, method="bitcoin"))
    assert orders.get(order.code).status is OrderStatus.WAITING


def test_unknown_payment_is_resolved_by_staff_with_a_note(orders: OrderStore) -> None:
    """GIVEN a kiosk reporting UNKNOWN WHEN staff resolve without a note THEN refused; with a note THEN paid."""
    order = orders.create([("joseki", 1)], staff="s")
    unknown = orders.report_payment(
        DEVICE, str(uuid.uuid4()), _paid(order.code, 750, outcome=PaidOutcome.UNKNOWN)
    )
    assert unknown.status is OrderStatus.UNKNOWN and unknown.paid_at is None
    with pytest.raises(OrderError, match="needs a note"):
        orders.resolve(order.code, paid=True, note="  ", staff="s2")
    resolved = orders.resolve(order.code, paid=True, note="journal shows slip 0042", staff="s2")
    assert (
        resolved.status is OrderStatus.PAID
        and "[s2] resolved as paid: journal shows slip 0042" in resolved.note
    )
    with pytest.raises(OrderError, match="cannot be resolved"):
        orders.resolve(order.code, paid=False, note="again", staff="s2")


def test_unknown_resolved_as_not_paid_can_be_paid_again(orders: OrderStore) -> None:
    """GIVEN UNKNOWN resolved as not paid WHEN a kiosk pays it THEN it becomes paid."""
    order = orders.create([("joseki", 1)], staff="s")
    orders.report_payment(DEVICE, str(uuid.uuid4()), _paid(order.code, 750, outcome=PaidOutcome.UNKNOWN))
    assert (
        orders.resolve(order.code, paid=False, note="terminal shows no sale", staff="s").status
        is OrderStatus.WAITING
    )
    assert orders.report_payment(DEVICE, str(uuid.uuid4()), _paid(order.code, 750)).status is OrderStatus.PAID


def test_refund_follows_the_catalog_policy(
    orders: OrderStore, catalog: Catalog, store_clock: SteppableClock
) -> None:
    """GIVEN the sample policy (no refunds) WHEN staff refund THEN refused with the policy text;
    GIVEN a catalog that allows refunds THEN a paid order is refunded with its reason."""
    order = orders.create([("joseki", 1)], staff="s")
    orders.report_payment(DEVICE, str(uuid.uuid4()), _paid(order.code, 750, method="cash"))
    with pytest.raises(OrderError) as info:
        orders.refund(order.code, note="changed mind", staff="s")
    assert info.value.kind is OrderErrorKind.REFUSED
    assert info.value.message == catalog.payment.refund.text.text("ja")
    refund = catalog.payment.refund.model_copy(update={"refunds": True})
    generous = catalog.model_copy(update={"payment": catalog.payment.model_copy(update={"refund": refund})})
    other = OrderStore(orders.engine, generous, clock=store_clock)
    refunded = other.refund(order.code, note="fee charged twice at the counter", staff="s")
    assert refunded.status is OrderStatus.REFUNDED and "refund: fee charged twice" in refunded.note


def test_waiting_order_can_be_cancelled_but_not_a_paid_one(orders: OrderStore) -> None:
    """GIVEN a waiting and a paid order WHEN cancelled THEN only the waiting one is."""
    waiting = orders.create([("joseki", 1)], staff="s")
    paid = orders.create([("joseki", 1)], staff="s")
    orders.report_payment(DEVICE, str(uuid.uuid4()), _paid(paid.code, 750))
    assert orders.cancel(waiting.code, note="resident left", staff="s").status is OrderStatus.CANCELLED
    with pytest.raises(OrderError, match="cannot be cancelled"):
        orders.cancel(paid.code, note="", staff="s")
    assert [o.code for o in orders.orders(OrderStatus.PAID)] == [paid.code]
