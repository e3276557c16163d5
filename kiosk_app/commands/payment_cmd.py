"""`kiosk payment`: take a payment, recover, look at and reconcile the payment journal.

Exit codes of `sale`: 0 paid (also when the order was already paid: nothing is charged again),
1 not paid (declined, cancelled, not charged), 3 outcome unknown — the order is blocked until staff
reconcile it (`kiosk payment reconcile`), 2 bad input (nothing journaled, nothing sent).

`--data-dir` opens the same journal as the kiosk app (`kiosk_app.payment_journal.journal_path`).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import re
from contextlib import suppress
from pathlib import Path
from typing import Any

from device_drivers.errors import DeviceError
from madoguchi.cli import add_json_flag, emit, group
from madoguchi.errors import UserError

__all__ = ["open_journal", "record_dict", "register"]

_logger = logging.getLogger(__name__)
_AMOUNT = re.compile(r"^[0-9]+$")
DEFAULT_KIOSK_ID = "jp-000000-k00"
_TERMINAL_HINT = "check the terminal's cable and power, then kiosk diag payment"
_JOURNAL_HINT = "check that the directory exists and is writable"
_HINTS = {
    "payment.invalid_amount": "give a whole number of yen from 1 to the kiosk's limit",
    "payment.invalid_order": "pass the order's id as --order, exactly as the order slip or register shows it",
    "payment.invalid_kiosk_id": "pass this kiosk's device id ([kiosk] device_id in kiosk.toml) as --kiosk-id",
    "payment.order_blocked": "staff: kiosk payment journal --unresolved, then kiosk payment reconcile",
    "payment.already_paid": "the order is paid; do not charge it again",
    "payment.busy": "wait for the running payment to end",
    "payment.journal_missing": (
        "--data-dir is the kiosk's data directory ([kiosk] data_dir in kiosk.toml, e.g. /data/kiosk); "
        "--journal names a journal file"
    ),
    "payment.two_journals": "staff: look at the old journal's entries first; nothing was moved or changed",
}


def open_journal(args: argparse.Namespace, create: bool = True) -> Any:
    """The journal named by --journal, or the kiosk's journal in --data-dir (as the app opens it).

    Args:
        args: parsed options (`journal`, `data_dir`, `kiosk_id`).
        create: make an empty journal if there is none; False for commands that read or settle entries.
    """
    from device_drivers.payment.identifiers import validate_kiosk_id
    from device_drivers.payment.journal import Journal
    from kiosk_app.payment_journal import JournalNotFound, open_kiosk_journal

    try:
        validate_kiosk_id(args.kiosk_id)
        if args.journal:
            path = Path(args.journal)
            if not create and not path.is_file():
                raise JournalNotFound(f"no payment journal at {path}")
            return Journal(path, args.kiosk_id)
        if args.data_dir:
            return open_kiosk_journal(Path(args.data_dir), args.kiosk_id, create=create)
    except DeviceError as exc:
        raise UserError(str(exc), _hint(exc, _JOURNAL_HINT)) from exc
    raise UserError(
        "no payment journal location given",
        "pass --data-dir DIR (the kiosk's data directory) or --journal FILE",
    )


def record_dict(record: Any) -> dict[str, Any]:
    """A journal record as JSON-ready data, with `paid` and `needs_staff`."""
    data = {k: (v.value if hasattr(v, "value") else v) for k, v in dataclasses.asdict(record).items()}
    data["paid"] = record.paid
    data["needs_staff"] = record.needs_staff
    return data


def _terminal(args: argparse.Namespace, journal: Any) -> Any:
    from device_drivers.payment.driver import PaymentTerminal
    from device_drivers.payment.transport import port_from_url
    from madoguchi.device_urls import DeviceUrlError

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
    from device_drivers.payment.errors import AlreadyPaid, OrderBlocked
    from device_drivers.payment.identifiers import validate_order_id
    from device_drivers.payment.messages import Method

    amount = _parse_amount(args.amount)
    try:  # refused before the journal or the port is even opened (the kiosk id: in open_journal)
        validate_amount(amount, args.max_yen)
        validate_order_id(args.order)
    except DeviceError as exc:
        raise UserError(str(exc), _hint(exc)) from exc
    journal = open_journal(args)
    try:
        with suppress(OrderBlocked):  # recovery when the port opens may settle it; sale() checks again
            journal.check_order(args.order)  # already paid: answered without opening the port
        with _terminal(args, journal) as terminal:
            terminal.open()
            record = terminal.sale(args.order, amount, Method(args.method.upper()))
    except AlreadyPaid:
        return _already_paid(args, journal)
    except DeviceError as exc:
        raise UserError(f"payment not started: {exc}", _hint(exc)) from exc
    finally:
        journal.close()
    emit(record_dict(record), args.json, lambda: _summary(record))
    return 0 if record.paid else 3 if record.needs_staff else 1


def _already_paid(args: argparse.Namespace, journal: Any) -> int:
    """An order that is paid already is an answer, not an error: say so, charge nothing."""
    paid = journal.paid_by(args.order)
    data = record_dict(paid) | {
        "already_paid": True,
        "charged_now": False,
        "message": f"order {args.order} already paid, not charged again",
    }
    emit(
        data,
        args.json,
        lambda: (
            f"ALREADY PAID: order {args.order} was paid by {paid.ref} ({paid.amount} yen); not charged again"
        ),
    )
    return 0


def _hint(exc: DeviceError, default: str = _TERMINAL_HINT) -> str:
    return _HINTS.get(exc.code, default)


def _recover(args: argparse.Namespace) -> int:
    journal = open_journal(args, create=False)
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
    journal = open_journal(args, create=False)
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
    journal = open_journal(args, create=False)
    try:
        record = journal.reconcile(args.ref, args.outcome == "charged", args.by, args.how)
    except DeviceError as exc:
        raise UserError(str(exc), "only UNKNOWN payments are reconciled; check the exact reference") from exc
    finally:
        journal.close()
    emit(record_dict(record), args.json, lambda: f"{record.ref} RECONCILED as {args.outcome} by {args.by}")
    return 0


def _void(args: argparse.Namespace) -> int:
    journal = open_journal(args, create=False)
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
        help="kiosk data directory, [kiosk] data_dir in kiosk.toml (journal: payments/journal.sqlite)",
    )
    parser.add_argument("--journal", default=None, help="payment journal file (overrides --data-dir)")
    parser.add_argument(
        "--kiosk-id",
        default=DEFAULT_KIOSK_ID,
        help=f"this kiosk's device id, prefix of references: a-z, 0-9, '-', 3-64 (default {DEFAULT_KIOSK_ID})",
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
