"""`kiosk-central catalog`: validate a municipality's catalog and show what it offers at a given time.

`keys`, `publish` and `status` (signed push, rollout) live in `catalog_push_cmd`, `diff` (what a catalog
changes in the procedure guide) in `catalog_diff_cmd`; both are added here.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from central_broker.commands import catalog_diff_cmd, catalog_push_cmd
from madoguchi.cli import add_json_flag, emit, group
from madoguchi.contracts.catalog import Catalog, CatalogInvalid, load_catalog, sample_catalog_path
from madoguchi.contracts.catalog_base import Channel, NoFeeInForce, local_time, tokyo, uncovered
from madoguchi.contracts.catalog_certs import CertificateType
from madoguchi.contracts.languages import DEFAULT_LANGUAGE, LANGUAGES
from madoguchi.errors import UserError

__all__ = ["catalog_summary", "register"]

_logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `catalog` group with `validate`, `show`, `keys`, `diff`, `publish`, `status` and `refresh`."""
    sub = group(
        subparsers, "catalog", "validate, show, sign and publish municipality catalogs; rollout status"
    )
    _add_validate(sub)
    _add_show(sub)
    catalog_push_cmd.add_keys(sub)
    catalog_diff_cmd.add_diff(sub)
    catalog_push_cmd.add_publish(sub)
    catalog_push_cmd.add_status(sub)
    catalog_push_cmd.add_refresh(sub)


def _add_at(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--at",
        metavar="ISO",
        help="evaluate at this time (e.g. 2027-04-01T09:00, Japan time unless an offset is given)",
    )


def _add_validate(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "validate",
        help="check a catalog file; exit 0 with a summary, or 2 listing every problem by field path",
        description="Check a catalog file against the catalog contract (structure, references, fee periods).",
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="catalog JSON file")
    _add_at(parser)
    add_json_flag(parser)
    parser.set_defaults(func=_validate)


def _add_show(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "show",
        help="list certificate types with the fee in force and whether they are open",
        description="List certificate types with the fee in force and open/closed at a time (default: now).",
    )
    parser.add_argument(
        "file",
        type=Path,
        nargs="?",
        metavar="FILE",
        help="catalog JSON file (default: the shipped sample catalog)",
    )
    _add_at(parser)
    parser.add_argument(
        "--lang", choices=LANGUAGES, default=DEFAULT_LANGUAGE, help="language of names (default ja)"
    )
    add_json_flag(parser)
    parser.set_defaults(func=_show)


def _parse_at(text: str | None) -> datetime:
    if text is None:
        return datetime.now(tokyo()).replace(microsecond=0)
    try:
        return local_time(datetime.fromisoformat(text))
    except ValueError as exc:
        raise UserError(
            f"--at {text!r} is not an ISO date-time",
            "write e.g. 2027-04-01T09:00 (Japan time) or add an offset",
        ) from exc


def _fee_yen(cert: CertificateType, at: datetime, channel: Channel) -> int | None:
    try:
        return cert.fee_for(at, channel).amount_yen
    except NoFeeInForce:
        return None


def _next_kiosk_change(cert: CertificateType, at: datetime) -> dict[str, Any] | None:
    today = local_time(at).date()
    upcoming = sorted(
        (f for f in cert.fees if f.channel == Channel.KIOSK and f.effective_from > today),
        key=lambda f: f.effective_from,
    )
    return {"on": str(upcoming[0].effective_from), "kiosk_yen": upcoming[0].amount_yen} if upcoming else None


def catalog_summary(catalog: Catalog, at: datetime, source: str = "") -> dict[str, Any]:
    """Version, counts, the fee table in force at `at` and warnings (e.g. a type without a current fee)."""
    guide = catalog.procedures
    fees = []
    warnings = []
    for cert in catalog.certificate_types:
        kiosk = _fee_yen(cert, at, Channel.KIOSK)
        if kiosk is None:
            warnings.append(
                f"{cert.id}: no kiosk fee in force on {local_time(at).date()}; its sale is blocked (R-01)"
            )
        kiosk_fees = [fee for fee in cert.fees if fee.channel == Channel.KIOSK]
        for first, last in uncovered(kiosk_fees, catalog.effective_from):
            period = f"for {first}..{last}" if last else f"from {first} on"
            warnings.append(f"{cert.id}: no kiosk fee {period}; it cannot be sold then (R-01)")
        fees.append(
            {
                "id": cert.id,
                "name": cert.names.text(DEFAULT_LANGUAGE),
                "kiosk_yen": kiosk,
                "counter_yen": _fee_yen(cert, at, Channel.COUNTER),
                "next_change": _next_kiosk_change(cert, at),
            }
        )
    return {
        "valid": True,
        "file": source,
        "schema_version": catalog.schema_version,
        "version": catalog.version,
        "municipality": {"code": catalog.municipality.code, "name": catalog.municipality.names.text()},
        "effective_from": str(catalog.effective_from),
        "at": local_time(at).isoformat(),
        "counts": {
            "certificate_types": len(catalog.certificate_types),
            "eligibility_rules": len(catalog.eligibility_rules),
            "payment_methods": len(catalog.payment.methods),
            "fee_items": len(catalog.fee_items),
            "queue_categories": len(catalog.queue.categories),
            "counters": len(guide.counters),
            "life_events": len(guide.life_events),
            "questions": len(guide.questions),
            "procedures": len(guide.procedures),
            "holidays": len(catalog.service_hours.holidays),
            "maintenance": len(catalog.service_hours.maintenance),
        },
        "fees_now": fees,
        "warnings": warnings,
    }


def _yen(amount: int | None) -> str:
    return "—" if amount is None else f"¥{amount}"


def _summary_text(summary: dict[str, Any]) -> str:
    counts = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in summary["counts"].items())
    lines = [
        f"catalog OK: {summary['municipality']['name']} ({summary['municipality']['code']}) "
        f"version {summary['version']}, schema {summary['schema_version']}, effective from {summary['effective_from']}",
        f"  {counts}",
        f"fees in force at {summary['at']}:",
    ]
    for fee in summary["fees_now"]:
        change = fee["next_change"]
        later = f"  (kiosk ¥{change['kiosk_yen']} from {change['on']})" if change else ""
        lines.append(
            f"  {fee['id']:<14} kiosk {_yen(fee['kiosk_yen']):>6}  counter {_yen(fee['counter_yen']):>6}"
            f"  {fee['name']}{later}"
        )
    lines += [f"warning: {w}" for w in summary["warnings"]]
    return "\n".join(lines)


def _validate(args: argparse.Namespace) -> int:
    at = _parse_at(args.at)
    try:
        catalog = load_catalog(args.file)
    except CatalogInvalid as exc:
        if not args.json:
            raise
        problems = [asdict(issue) for issue in exc.issues]
        emit({"valid": False, "file": str(args.file), "problems": problems}, True)
        return 2
    summary = catalog_summary(catalog, at, str(args.file))
    emit(summary, args.json, lambda: _summary_text(summary))
    return 0


def _show(args: argparse.Namespace) -> int:
    at = _parse_at(args.at)
    path: Path = args.file or sample_catalog_path()
    catalog = load_catalog(path)
    rows: list[dict[str, Any]] = []
    for cert in catalog.certificate_types:
        status = catalog.is_open(cert.id, at)
        rows.append(
            {
                "id": cert.id,
                "name": cert.names.text(args.lang),
                "kiosk_yen": _fee_yen(cert, at, Channel.KIOSK),
                "counter_yen": _fee_yen(cert, at, Channel.COUNTER),
                "open": status.open,
                "closed_reason": status.reason.value if status.reason else None,
                "note": status.note.text(args.lang) if status.note else None,
                "next_open": status.next_open.isoformat() if status.next_open else None,
                "hours": status.hours.text(args.lang),
            }
        )
    data: dict[str, Any] = {
        "file": str(path),
        "version": catalog.version,
        "at": local_time(at).isoformat(),
        "lang": args.lang,
    }
    data["certificate_types"] = rows

    def text() -> str:
        lines = [
            f"{catalog.municipality.names.text(args.lang)} catalog version {catalog.version} at {data['at']}:"
        ]
        for row in rows:
            state = (
                "open" if row["open"] else f"closed ({row['closed_reason']}; opens {row['next_open'] or '—'})"
            )
            lines.append(f"  {row['id']:<14} kiosk {_yen(row['kiosk_yen']):>6}  {state:<10}  {row['name']}")
            lines.append(f"  {'':<14} {row['hours']}")
        return "\n".join(lines)

    emit(data, args.json, text)
    return 0
