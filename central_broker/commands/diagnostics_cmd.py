"""`kiosk-central diagnostics list|show`: diagnostics bundles kiosks uploaded after `collect_logs`.

Ask a kiosk for one with `kiosk-central command DEVICE collect_logs --wait 30`; the kiosk uploads a
gzip JSON bundle (health, outbox, alerts, recent log lines with long digit runs masked) on `up/diag`
and the ingest stores it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

from central_broker.store import FleetStore, open_store
from madoguchi.cli import add_json_flag, emit, group
from madoguchi.config.central import load_central_config
from madoguchi.errors import UserError

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `diagnostics list|show`."""
    sub = group(
        subparsers,
        "diagnostics",
        "list and read the diagnostics bundles kiosks uploaded (command collect_logs)",
    )
    listing = sub.add_parser("list", help="list uploaded bundles", description="Bundles, oldest first.")
    _store_options(listing)
    listing.add_argument("--device", help="only this kiosk")
    add_json_flag(listing)
    listing.set_defaults(func=_list)

    show = sub.add_parser(
        "show",
        help="print one bundle as JSON, or save it with --out",
        description="Print the bundle's JSON (health, outbox, alerts, recent log lines), or write the "
        "gzip file with --out FILE.",
    )
    _store_options(show)
    show.add_argument("device_id", help="kiosk device id")
    show.add_argument("cmd_id", help="the collect_logs command id (see `diagnostics list`)")
    show.add_argument("--out", type=Path, help="write the .json.gz bundle here instead of printing it")
    show.set_defaults(func=_show)


def _store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="central TOML file")
    parser.add_argument("--store", help="store URL instead of --config")


def _open(args: argparse.Namespace) -> FleetStore:
    if (args.config is None) == (args.store is None):
        raise UserError(
            "give exactly one of --config FILE or --store URL", "e.g. --config /etc/madoguchi/central.toml"
        )
    url = args.store or load_central_config(args.config, check_files=False).central.store_url
    return open_store(url, create=False)


def _list(args: argparse.Namespace) -> int:
    store = _open(args)
    try:
        records = store.diagnostics(args.device)
    finally:
        store.close()
    lines = [
        f"{r.device_id}  {r.cmd_id}  {r.size} bytes  "
        + ("complete" if r.complete else f"{r.received}/{r.parts} parts")
        for r in records
    ]
    emit([r.to_dict() for r in records], args.json, "\n".join(lines) or "no diagnostics uploaded yet")
    return 0


def _show(args: argparse.Namespace) -> int:
    store = _open(args)
    try:
        blob = store.diagnostics_bundle(args.device_id, args.cmd_id)
    finally:
        store.close()
    if blob is None:
        raise UserError(
            f"no complete diagnostics bundle {args.cmd_id} from {args.device_id}",
            "see `kiosk-central diagnostics list`; ask again with `kiosk-central command DEV collect_logs`",
        )
    if args.out is not None:
        args.out.write_bytes(blob)
        print(f"wrote {args.out} ({len(blob)} bytes)")
        return 0
    json.dump(json.loads(gzip.decompress(blob)), sys.stdout, ensure_ascii=False, indent=1)
    print()
    return 0
