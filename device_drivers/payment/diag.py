"""`kiosk diag payment`: is the terminal there and ready? STS only — never starts a transaction."""

from __future__ import annotations

import argparse
import logging
import os

from device_drivers.errors import DeviceError
from madoguchi.cli import add_json_flag, emit

__all__ = ["check_payment", "register_diag"]

_logger = logging.getLogger(__name__)
DEFAULT_DEVICE = "serial:///dev/kiosk/payment?baud=9600"


def check_payment(url: str) -> dict[str, object]:
    """Open the port exclusively, send STS, report the answer; no journal, no financial message."""
    from device_drivers.payment.driver import PaymentTerminal
    from device_drivers.payment.journal import Journal
    from device_drivers.payment.transport import port_from_url

    report: dict[str, object] = {"device": url, "ok": False}
    try:
        source = port_from_url(url)
    except ValueError as exc:
        report["error"] = str(exc)
        return report
    report["port"] = source.description
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="diag-payment-") as tmp:
        journal = Journal(Path(tmp) / "unused.sqlite", "diag")  # never written: status() journals nothing
        terminal = PaymentTerminal(source, journal)
        try:
            status = terminal.status()
            report.update(
                ok=status.state.value == "READY", state=status.state.value, terminal_id=status.terminal_id
            )
            if status.busy_ref:
                report["busy_ref"] = status.busy_ref
        except DeviceError as exc:
            report.update(error=str(exc), code=exc.code)
        finally:
            terminal.close()
            journal.close()
    return report


def _run(args: argparse.Namespace) -> int:
    report = check_payment(args.device)
    emit(report, args.json, lambda: _text(report))
    return 0 if report["ok"] else 1


def _text(report: dict[str, object]) -> str:
    if report["ok"]:
        return (
            f"payment terminal OK: {report.get('terminal_id')} {report.get('state')} on {report.get('port')}"
        )
    return f"payment terminal NOT OK on {report['device']}: {report.get('state') or report.get('error')}"


def register_diag(diag: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `diag payment`."""
    parser = diag.add_parser(
        "payment", help="check the payment terminal (status request only, never a payment)"
    )
    parser.add_argument(
        "--device",
        default=os.environ.get("MADOGUCHI_PAYMENT_DEVICE", DEFAULT_DEVICE),
        help=f"terminal URL (default {DEFAULT_DEVICE})",
    )
    add_json_flag(parser)
    parser.set_defaults(func=_run)
