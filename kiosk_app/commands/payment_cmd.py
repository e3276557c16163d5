"""`kiosk payment`: take a payment, recover, look at and reconcile the payment journal.

Exit codes of `sale`: 0 paid, 1 not paid (declined, cancelled, not charged), 3 outcome unknown —
the order is blocked until staff reconcile it (`kiosk payment reconcile`).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import re
from pathlib import Path
from typing import Any

from device_drivers.errors import DeviceError
from madoguchi.cli import add_json_flag, emit, group
from madoguchi.errors import UserError

__all__ = ["open_journal", "record_dict", "register"]

_logger = logging.getLogger(__name__)
_AMOUNT = re.compile(r"^[0-9]+$")
DEFAULT_KIOSK_ID = "jp-000000-k00"


def open_journal(args: argparse.Namespace) -> Any:
    """The journal named by --journal, or DATA_DIR/payments.sqlite from --data-dir."""
    from device_drivers.payment.journal import Journal

    if args.journal:
        path = Path(args.journal)
    elif args.data_dir:
        path = Path(args.data_dir) / "payments.sqlite"
    else:
        raise UserError(
            "no payment journal location given",
            "pass --data-dir DIR (the kiosk's data directory) or --journal FILE",
        )
    try:
        return Journal(path, args.kiosk_id)
    except DeviceError as exc:
        raise UserError(str(exc), "check that the directory exists and is writable") from exc


def record_dict(record: Any) -> dict[str, Any]:
    """A journal record as JSON-ready data, with `paid` and `needs_staff`."""
    data = {k: (v.value if hasattr(v, "value") else v) for k, v in dataclasses.asdict(record).items()}
    data["paid"] = record.paid
    data["needs_staff"] = record.needs_staff
    return data


def _terminal(args: argparse.Namespace, journal: Any) -> Any:
    from device_drivers.payment.driver import PaymentTerminal
    from device_drivers.payment.transport import port_from_url
    from device_drivers.urls import DeviceUrlError

    try:
        source = port_from_url(args.device)
    except (DeviceUrlError, ValueError) as exc:
        raise UserError(
            str(exc), "e.g. --device serial:///dev/serial/by-id/... or pty-sim://payment"
        ) from exc
    return PaymentTerminal(source, journal, max_yen=args.max_yen)


def _parse_amount(text: str) -> int:
    if not _AMOUNT.match(text.strip()):
        raise UserError(
            f"amount {text!r} is not whole yen", "write the amount in yen as digits only, e.g. --amount 300"
        )
    return int(text.strip())


def _summary(record: Any) -> str:
    if record.paid:
        return f"PAID {record.amount} yen ({record.ref}, {record.brand or record.method.value})"
    if record.needs_staff:
        return (
            f"UNKNOWN: contact staff; order {record.order_id} is blocked ({record.ref}: {record.last_error})"
        )
    return f"NOT PAID: {record.state.value} ({record.ref})"


def _sale(args: argparse.Namespace) -> int:
    from device_drivers.payment.driver import validate_amount
    from device_drivers.payment.messages import Method

    amount = _parse_amount(args.amount)
    try:
        validate_amount(amount, args.max_yen)  # refused before the port is even opened
    except DeviceError as exc:
        raise UserError(str(exc), _hint(exc)) from exc
    journal = open_journal(args)
    terminal = _terminal(args, journal)
    try:
        terminal.open()
        record = terminal.sale(args.order, amount, Method(args.method.upper()))
    except DeviceError as exc:
        raise UserError(f"payment not started: {exc}", _hint(exc)) from exc
    finally:
        terminal.close()
        journal.close()
    emit(record_dict(record), args.json, lambda: _summary(record))
    return 0 if record.paid else 3 if record.needs_staff else 1


def _hint(exc: DeviceError) -> str:
    hints = {
        "payment.invalid_amount": "give a whole number of yen from 1 to the kiosk's limit",
        "payment.order_blocked": "staff: kiosk payment journal --unresolved, then kiosk payment reconcile",
        "payment.already_paid": "the order is paid; do not charge it again",
        "payment.busy": "wait for the running payment to end",
    }
    return hints.get(exc.code, "check the terminal's cable and power, then kiosk diag payment")


def _recover(args: argparse.Namespace) -> int:
    journal = open_journal(args)
    terminal = _terminal(args, journal)
    try:
        records = terminal.open()
    except DeviceError as exc:
        raise UserError(f"recovery not possible: {exc}", _hint(exc)) from exc
    finally:
        terminal.close()
        journal.close()
    emit(
        [record_dict(r) for r in records],
        args.json,
        lambda: "\n".join(_summary(r) for r in records) or "nothing to recover",
    )
    return 3 if any(r.needs_staff for r in records) else 0


def _journal(args: argparse.Namespace) -> int:
    journal = open_journal(args)
    try:
        records = journal.records(unresolved=args.unresolved)
        data = [
            record_dict(r) | {"events": [[s.value, w, d] for s, w, _m, d in journal.events(r.ref)]}
            for r in records
        ]
    finally:
        journal.close()
    emit(
        data,
        args.json,
        lambda: "\n".join(f"{r.ref} {r.order_id} {r.amount} yen {r.state.value}" for r in records) or "empty",
    )
    return 0


def _reconcile(args: argparse.Namespace) -> int:
    journal = open_journal(args)
    try:
        record = journal.reconcile(args.ref, args.outcome == "charged", args.by, args.how)
    except DeviceError as exc:
        raise UserError(str(exc), "only UNKNOWN payments are reconciled; check the exact reference") from exc
    finally:
        journal.close()
    emit(record_dict(record), args.json, lambda: f"{record.ref} RECONCILED as {args.outcome} by {args.by}")
    return 0


def _void(args: argparse.Namespace) -> int:
    journal = open_journal(args)
    terminal = _terminal(args, journal)
    try:
        terminal.open()
        record = terminal.void(args.ref, args.by)
    except DeviceError as exc:
        raise UserError(
            f"void not done: {exc}", "voids are for same-day definite approvals, by exact reference"
        ) from exc
    finally:
        terminal.close()
        journal.close()
    emit(record_dict(record), args.json, lambda: f"void {record.ref}: {record.state.value}")
    return 0 if record.paid else 1


def _common(parser: argparse.ArgumentParser, device: bool) -> None:
    if device:
        parser.add_argument(
            "--device",
            required=True,
            help="terminal URL: serial:///dev/serial/by-id/...?baud=9600 or pty-sim://payment",
        )
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("MADOGUCHI_DATA_DIR"),
        help="kiosk data directory (journal: payments.sqlite)",
    )
    parser.add_argument("--journal", default=None, help="payment journal file (overrides --data-dir)")
    parser.add_argument(
        "--kiosk-id",
        default=DEFAULT_KIOSK_ID,
        help=f"kiosk id, prefix of references (default {DEFAULT_KIOSK_ID})",
    )
    parser.add_argument(
        "--max-yen", type=int, default=1_000_000, help="highest amount accepted (default 1000000)"
    )
    add_json_flag(parser)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `payment` with sale, recover, journal, reconcile and void."""
    sub = group(
        subparsers, "payment", "cashless payments on the terminal: sale, recovery, journal, staff actions"
    )
    sale = sub.add_parser("sale", help="take one payment (exit 0 paid, 1 not paid, 3 unknown: staff)")
    sale.add_argument("--amount", required=True, help="amount in whole yen, e.g. 300")
    sale.add_argument("--method", required=True, choices=["credit", "emoney", "qr"], help="payment method")
    sale.add_argument("--order", required=True, help="order id the payment belongs to")
    _common(sale, device=True)
    sale.set_defaults(func=_sale)
    recover = sub.add_parser("recover", help="resolve unfinished payments by inquiry to the terminal")
    _common(recover, device=True)
    recover.set_defaults(func=_recover)
    journal = sub.add_parser("journal", help="show the payment journal")
    journal.add_argument("--unresolved", action="store_true", help="only payments without a definite outcome")
    _common(journal, device=False)
    journal.set_defaults(func=_journal)
    reconcile = sub.add_parser(
        "reconcile", help="staff: settle an UNKNOWN payment after checking the terminal or acquirer"
    )
    reconcile.add_argument("--ref", required=True, help="exact payment reference")
    reconcile.add_argument(
        "--outcome", required=True, choices=["charged", "not-charged"], help="what the check showed"
    )
    reconcile.add_argument("--by", required=True, help="staff member")
    reconcile.add_argument(
        "--how", required=True, help="how it was checked (terminal history, acquirer portal, card balance)"
    )
    _common(reconcile, device=False)
    reconcile.set_defaults(func=_reconcile)
    void = sub.add_parser("void", help="staff: void a same-day approval by its exact reference")
    void.add_argument("--ref", required=True, help="exact reference of the approved payment")
    void.add_argument("--by", required=True, help="staff member")
    _common(void, device=True)
    void.set_defaults(func=_void)
