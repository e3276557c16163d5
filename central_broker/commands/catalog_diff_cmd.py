"""`kiosk-central catalog diff`: what a catalog file changes in the procedure guide, before it is published.

Compared with `--against FILE`, or with the catalog last published for the same municipality (the centre's
store, `--config` or `--store`). `catalog publish` shows the same diff, and `publish --dry-run` only that.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from central_broker.catalog_push.bodies import CatalogBodies
from central_broker.catalog_push.guide_diff import GuideDiff, diff_guides
from central_broker.catalog_push.published import last_published
from central_broker.store import FleetStore, open_store
from madoguchi.cli import add_json_flag, emit
from madoguchi.config.central import load_central_config
from madoguchi.contracts.catalog import Catalog, load_catalog
from madoguchi.errors import UserError

__all__ = ["add_diff", "guide_diff_against_published"]


def guide_diff_against_published(
    store: FleetStore, catalog: Catalog, bodies: CatalogBodies | None = None
) -> GuideDiff:
    """The guide changes of `catalog` against the last one published for its municipality."""
    return diff_guides(last_published(store, catalog.municipality.code, bodies), catalog)


def add_diff(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`catalog diff FILE [--against OLD | --config C | --store URL]`."""
    parser = sub.add_parser(
        "diff",
        help="show what a catalog changes in the procedure guide (procedures, questions, counters, languages)",
        description="Compare FILE's procedure guide and ticket categories with --against OLD, or with the "
        "catalog last published for the same municipality (--config or --store): entries added, removed "
        "and changed, each changed field with the languages whose text changed.",
    )
    parser.add_argument("file", type=Path, help="the new catalog JSON file")
    parser.add_argument("--against", type=Path, metavar="OLD", help="compare with this catalog file")
    parser.add_argument("--config", type=Path, help="central TOML file (its store has the published catalog)")
    parser.add_argument("--store", help="store URL instead of --config")
    add_json_flag(parser)
    parser.set_defaults(func=_diff)


def _diff(args: argparse.Namespace) -> int:
    sources = [s for s in (args.against, args.config, args.store) if s is not None]
    if len(sources) != 1:
        raise UserError(
            "give exactly one of --against OLD, --config FILE or --store URL",
            "e.g. --config /etc/madoguchi/central.toml to compare with what kiosks were last sent",
        )
    new = load_catalog(args.file)
    if args.against is not None:
        diff = diff_guides(load_catalog(args.against), new)
    else:
        config = None if args.store else load_central_config(args.config, check_files=False)
        url = args.store or config.central.store_url  # type: ignore[union-attr]
        bodies = None if config is None else CatalogBodies.in_data_dir(config.central.data_dir)
        store = open_store(url, create=False)
        try:
            diff = guide_diff_against_published(store, new, bodies)
        finally:
            store.close()
    emit(diff.to_dict(), args.json, "\n".join(diff.lines()))
    return 0
