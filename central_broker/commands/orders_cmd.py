"""`kiosk-central orders create|show|list`: semi-self register payment orders from the command line.

`create ITEM=QTY ...` registers an order from the catalog's fee table and prints its code; the
kiosk looks it up with `payment.lookup` and reports the payment with `payment.mark_paid`.
"""

from __future__ import annotations

import argparse

from central_broker.commands.users_cmd import add_store_args, config_from_args
from central_broker.orders import Order, OrderStore
from central_broker.store import FleetStore, open_store
from central_broker.web.context import time_text
from central_broker.web.setup import catalog_of, open_orders
from madoguchi.cli import add_json_flag, emit, group
from madoguchi.contracts.orders import OrderStatus
from madoguchi.errors import UserError

__all__ = ["parse_items", "register"]


def parse_items(specs: list[str]) -> list[tuple[str, int]]:
    """`ITEM=QTY` (or `ITEM`, meaning one) → (item id, quantity) pairs."""
    items: list[tuple[str, int]] = []
    for spec in specs:
        item, sep, qty = spec.partition("=")
        try:
            quantity = int(qty) if sep else 1
        except ValueError:
            raise UserError(
                f"{spec!r}: the quantity {qty!r} is not a number", "write ITEM=QTY, e.g. joseki=2"
            ) from None
        items.append((item.strip(), quantity))
    return items


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `orders`."""
    orders = group(subparsers, "orders", "semi-self register payment orders (counter staff)")
    create = orders.add_parser(
        "create", help="register an order from the catalog's fee table; prints its code"
    )
    create.add_argument(
        "items", nargs="+", metavar="ITEM=QTY", help="fee item id and quantity, e.g. joseki=2"
    )
    create.add_argument(
        "--staff", default="cli", help="who registers it (kept in the order and the audit log)"
    )
    add_store_args(create)
    add_json_flag(create)
    create.set_defaults(func=_create)

    show = orders.add_parser("show", help="one order with its items, state and payment")
    show.add_argument("code", help="order code (P + 11 digits) or the slip's QR text")
    add_store_args(show)
    add_json_flag(show)
    show.set_defaults(func=_show)

    listing = orders.add_parser("list", help="latest orders, newest first")
    listing.add_argument("--status", choices=[s.value for s in OrderStatus], help="only orders in this state")
    listing.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    add_store_args(listing)
    add_json_flag(listing)
    listing.set_defaults(func=_list)


def _open(args: argparse.Namespace) -> tuple[FleetStore, OrderStore]:
    config = config_from_args(args)
    store = open_store(config.central.store_url, stale_after_s=config.fleet.stale_after_s)
    return store, open_orders(store, catalog_of(config))


def _text(order: Order) -> str:
    lines = [
        f"{order.code}  {order.status.value}  ¥{order.total_yen:,}  registered {time_text(order.created_at)} by {order.created_by}"
    ]
    lines += [f"  {ln.name} ×{ln.quantity}  ¥{ln.amount_yen:,}" for ln in order.lines]
    lines.append(f"  methods: {', '.join(order.methods)}")
    if order.device_id:
        lines.append(f"  paid at {order.device_id} with {order.method} (ref {order.payment_ref or '-'})")
    if order.note:
        lines += [f"  note: {line}" for line in order.note.splitlines()]
    return "\n".join(lines)


def _create(args: argparse.Namespace) -> int:
    store, orders = _open(args)
    try:
        order = orders.create(parse_items(args.items), staff=args.staff)
    finally:
        store.close()
    emit(order.to_dict(), args.json, lambda: _text(order))
    return 0


def _show(args: argparse.Namespace) -> int:
    store, orders = _open(args)
    try:
        order = orders.get(args.code)
    finally:
        store.close()
    emit(order.to_dict(), args.json, lambda: _text(order))
    return 0


def _list(args: argparse.Namespace) -> int:
    store, orders = _open(args)
    try:
        found = orders.orders(OrderStatus(args.status) if args.status else None, limit=args.limit)
    finally:
        store.close()
    emit(
        [o.to_dict() for o in found],
        args.json,
        lambda: (
            "\n".join(
                f"{o.code}  {o.status.value:<9} ¥{o.total_yen:>8,}  {time_text(o.created_at)}" for o in found
            )
            or "no orders"
        ),
    )
    return 0
