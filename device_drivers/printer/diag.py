"""`kiosk diag printer`: ask the receipt printer (and optionally the A4 queue) how it is, once."""

from __future__ import annotations

import argparse
import logging
from dataclasses import asdict

from madoguchi.cli import add_json_flag, emit

__all__ = ["printer_report", "register_diag"]

_logger = logging.getLogger(__name__)


def printer_report(printer_url: str, a4_url: str | None = None, timeout: float = 1.0) -> dict[str, object]:
    """Status of the receipt printer and, when given, the A4 queue, as plain data for JSON output."""
    from device_drivers.printer.job import ReceiptPrinter

    printer = ReceiptPrinter(printer_url, timeout=timeout)
    try:
        status = printer.status()
    finally:
        printer.close()
    report: dict[str, object] = {
        "printer": printer_url,
        "health": status.health.value,
        "ready": status.ready,
        "problems": list(status.problems),
        "status": {k: (v.value if hasattr(v, "value") else v) for k, v in asdict(status).items()},
    }
    if a4_url:
        from device_drivers.printer.a4.cups import CupsPrinter

        a4 = CupsPrinter(a4_url).status()
        report["a4"] = {"url": a4_url, "health": a4.health.value, "state": a4.state, "reasons": list(a4.reasons),
                        "accepting": a4.accepting}  # fmt: skip
    return report


def _text(report: dict[str, object]) -> str:
    problems = report["problems"] or ["none"]
    lines = [f"receipt printer {report['printer']}: {report['health']} (problems: {', '.join(problems)})"]  # type: ignore[arg-type]
    a4 = report.get("a4")
    if isinstance(a4, dict):
        lines.append(
            f"A4 printer {a4['url']}: {a4['health']} ({a4['state']}; {', '.join(a4['reasons']) or 'no alerts'})"
        )
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    report = printer_report(args.printer, args.a4, args.timeout)
    emit(report, args.json, lambda: _text(report))
    a4 = report.get("a4")
    ok = report["ready"] and (not isinstance(a4, dict) or a4["health"] != "error")
    return 0 if ok else 1


def register_diag(diag: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `printer` to `kiosk diag`."""
    parser = diag.add_parser(
        "printer",
        help="read the receipt printer's status (DLE EOT) and the A4 queue's state (CUPS/IPP)",
        description="Exit 0 when the printers can print, 1 when staff must act (paper, cover, offline).",
    )
    parser.add_argument(
        "--printer",
        default="emulated://printer",
        help="receipt printer URL, e.g. escpos+tcp://127.0.0.1:9100",
    )
    parser.add_argument(
        "--a4", default=None, help="A4 printer URL, e.g. cups://Kiosk_A4?server=localhost:631"
    )
    parser.add_argument("--timeout", type=float, default=1.0, help="seconds to wait for each status reply")
    add_json_flag(parser)
    parser.set_defaults(func=_run)
