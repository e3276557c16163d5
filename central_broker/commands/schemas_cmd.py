"""`kiosk-central schemas`: export the contract JSON Schemas, or check that the exported ones are current."""

from __future__ import annotations

import argparse
from pathlib import Path

from madoguchi.cli import add_json_flag, emit, group
from madoguchi.contracts.schemas import export_schemas, stale_schemas
from madoguchi.errors import UserError

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `schemas export` and `schemas check`."""
    sub = group(subparsers, "schemas", "export or check the JSON Schemas of the MQTT and catalog contracts")
    export = sub.add_parser(
        "export", help="write every schema into a folder", description="write every schema"
    )
    export.add_argument(
        "--out", type=Path, default=Path("docs/schemas"), help="folder (default docs/schemas)"
    )
    add_json_flag(export)
    export.set_defaults(func=_export)
    check = sub.add_parser("check", help="fail when a folder's schemas differ from the models")
    check.add_argument("--dir", type=Path, default=Path("docs/schemas"), help="folder (default docs/schemas)")
    add_json_flag(check)
    check.set_defaults(func=_check)


def _export(args: argparse.Namespace) -> int:
    written = export_schemas(args.out)
    emit([str(p) for p in written], args.json, f"wrote {len(written)} schemas to {args.out}")
    return 0


def _check(args: argparse.Namespace) -> int:
    stale = stale_schemas(args.dir)
    emit({"stale": stale}, args.json, "schemas are current" if not stale else "stale: " + ", ".join(stale))
    if stale:
        raise UserError(
            f"{len(stale)} schema file(s) in {args.dir} are stale", "run `make schemas` and commit"
        )
    return 0
