"""`kiosk i18n`: completeness of the resident-facing translations, compiling and updating the catalogs."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from madoguchi.cli import add_json_flag, emit, group

__all__ = ["register"]

_logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `i18n report`, `i18n compile` and `i18n update`."""
    sub = group(subparsers, "i18n", "translations of the resident-facing texts: report, compile, update")

    report = sub.add_parser(
        "report",
        help="how complete each language's catalog is (ids, translated, missing, furigana)",
        description="Compare the message ids used in the kiosk source with each language's catalog. "
        "Every tier-1 language must be complete: with --strict the command exits 1 otherwise.",
    )
    report.add_argument(
        "--strict", action="store_true", help="exit 1 unless every tier-1 language is complete"
    )
    report.add_argument(
        "--locale",
        type=Path,
        default=None,
        help="check this catalog folder (<dir>/LC_MESSAGES/kiosk.po per language) instead of the shipped one",
    )
    report.add_argument("--missing", action="store_true", help="list the missing ids of each language")
    add_json_flag(report)
    report.set_defaults(func=_report)

    compile_ = sub.add_parser(
        "compile",
        help="write compiled .mo files (the kiosk itself compiles the .po files in memory at start)",
        description="Compile every language's .po into OUT/<lang>/LC_MESSAGES/kiosk.mo.",
    )
    compile_.add_argument("--out", type=Path, required=True, help="folder to write the .mo files into")
    add_json_flag(compile_)
    compile_.set_defaults(func=_compile)

    update = sub.add_parser(
        "update",
        help="add message ids used in the source to every .po file (empty translations)",
        description="Extract message ids from kiosk_app and add the new ones to every language's .po file.",
    )
    add_json_flag(update)
    update.set_defaults(func=_update)


def _report(args: argparse.Namespace) -> int:
    from kiosk_app.i18n.report import REQUIRED_COMPLETE, completeness

    reports = completeness(locale=args.locale)
    data = {"languages": [r.as_dict() for r in reports], "required_complete": list(REQUIRED_COMPLETE)}

    def text() -> str:
        lines = [f"{'language':<10} {'translated':>10} {'total':>6} {'percent':>8}  status"]
        for r in reports:
            status = "complete" if r.complete else "incomplete"
            if r.wrong_fields:
                status += f" ({len(r.wrong_fields)} with wrong {{fields}})"
            if r.furigana:
                status += f", furigana in {r.furigana}"
            lines.append(f"{r.language:<10} {r.translated:>10} {r.total:>6} {r.percent:>7.1f}%  {status}")
            if args.missing and r.missing:
                lines.extend(f"    missing: {key}" for key in r.missing)
        return "\n".join(lines)

    emit(data, args.json, text)
    failed = [r.language for r in reports if r.language in REQUIRED_COMPLETE and not r.complete]
    return 1 if args.strict and failed else 0


def _compile(args: argparse.Namespace) -> int:
    from kiosk_app.i18n.catalogs import compile_catalogs

    written = compile_catalogs(args.out)
    emit({"written": [str(p) for p in written]}, args.json, f"wrote {len(written)} catalogs under {args.out}")
    return 0


def _update(args: argparse.Namespace) -> int:
    from kiosk_app.i18n.update import add_missing_keys

    added = add_missing_keys()
    total = sum(len(v) for v in added.values())
    emit(
        {"added": added}, args.json, f"added {total} empty entries" if total else "every catalog has every id"
    )
    return 0
