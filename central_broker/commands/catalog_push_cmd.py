"""`kiosk-central catalog keys|publish|status|refresh`: signing keys, signed catalog push, rollout status.

Added to the `catalog` group by `catalog_cmd.register`. Catalogs are validated, signed with the
online catalog key (listed in the root-signed `fleet/keys`) and published retained: the body on
`kiosk/v1/fleet/catalog/body/<sha256>`, the manifest, and `down/desired` per kiosk.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from central_broker.catalog_push import SigningKeys, build_release, publish_release
from central_broker.catalog_push.bodies import CatalogBodies
from central_broker.catalog_push.refresh import refresh_documents
from central_broker.catalog_push.retained import republish_retained
from central_broker.commands.catalog_diff_cmd import guide_diff_against_published
from central_broker.store import open_store
from madoguchi.cli import add_json_flag, emit
from madoguchi.config.central import CentralConfig, load_central_config
from madoguchi.contracts.base import municipality_of
from madoguchi.errors import UserError

__all__ = ["add_keys", "add_publish", "add_refresh", "add_status"]


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, required=True, help="central TOML file ([broker] as svc-catalog, store)"
    )


def _keys_dir(args: argparse.Namespace, config: CentralConfig | None) -> Path:
    if args.keys is not None:
        return Path(args.keys)
    if config is None:
        raise UserError("give --keys DIR", "the folder `kiosk-central catalog keys` created")
    return config.signing_dir


def add_keys(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`catalog keys --dir DIR`."""
    parser = sub.add_parser(
        "keys",
        help="create the fleet signing keys (root + catalog) if missing and show where they are",
        description="Create root.key/.pub and catalog.key/.pub in DIR (kept if present). Put root.pub "
        "into the kiosk image (KIOSK_FLEET_ROOT_KEYS), or let enrol-serve hand it to enrolling kiosks (--signing-dir DIR);"
        " keep root.key offline after the first publish.",
    )
    parser.add_argument(
        "--dir", type=Path, required=True, help="folder for the keys, e.g. /var/lib/madoguchi/signing"
    )
    add_json_flag(parser)
    parser.set_defaults(func=_keys)


def _keys(args: argparse.Namespace) -> int:
    keys = SigningKeys.init(args.dir)
    data = {
        "dir": str(args.dir),
        "root_public": str(keys.root_public),
        "catalog_public": str(args.dir / "catalog.pub"),
    }
    emit(
        data,
        args.json,
        f"signing keys in {args.dir}; build the kiosk image with {keys.root_public} in KIOSK_FLEET_ROOT_KEYS,"
        f" or run enrol-serve with --signing-dir {args.dir} so enrolling kiosks receive it",
    )
    return 0


def add_publish(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`catalog publish FILE [--devices ID…]`."""
    parser = sub.add_parser(
        "publish",
        help="validate, sign and publish a catalog to kiosks",
        description="Validate FILE, sign it with the online catalog key and publish it retained. Without "
        "--devices it goes to every kiosk in the store whose device id carries the catalog's municipality "
        "code. The root-signed fleet/keys already published goes out again unchanged; only when it must "
        "change (first publish, a new catalog key, or less than 30 days before it expires) is the root "
        "key needed: give --root-key where the offline root key is kept.",
    )
    parser.add_argument("file", type=Path, help="catalog JSON file")
    parser.add_argument(
        "--devices", nargs="+", metavar="ID", help="kiosk device ids (default: the municipality's)"
    )
    _config_option(parser)
    parser.add_argument(
        "--keys",
        type=Path,
        help="signing key folder (default [web] signing_keys_dir, else <data_dir>/signing)",
    )
    parser.add_argument(
        "--root-key", type=Path, help="root key file, only when fleet/keys must be signed (see above)"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="validate and show what changes in the procedure guide and which kiosks would get it; publish nothing",
    )
    add_json_flag(parser)
    parser.set_defaults(func=_publish)


def _root_key(args: argparse.Namespace) -> Path | None:
    root_key: Path | None = args.root_key
    if root_key is not None and not root_key.is_file():
        raise UserError(f"no root key at {root_key}", "give the path of root.key")
    return root_key


def _publish(args: argparse.Namespace) -> int:
    config = load_central_config(args.config)
    keys = SigningKeys(_keys_dir(args, config), root_key=_root_key(args))
    try:
        body = args.file.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {args.file}: {exc.strerror}", "check the path") from exc
    release = build_release(
        body, keys.catalog_key(), source=str(args.file), download_url=config.fleet.download_url
    )
    bodies = CatalogBodies.in_data_dir(config.central.data_dir)
    store = open_store(config.central.store_url)
    try:
        devices = args.devices or [
            d.device_id
            for d in store.devices()
            if municipality_of(d.device_id) == release.catalog.municipality.code
        ]
        diff = guide_diff_against_published(store, release.catalog, bodies)
        if args.dry_run:
            data = {"dry_run": True, "version": release.version, "devices": devices, "guide": diff.to_dict()}
            emit(data, args.json, "\n".join([*diff.lines(), f"dry run: nothing published; catalog version "
                                              f"{release.version} would go to {len(devices)} kiosk(s)"]))  # fmt: skip
            return 0
        result = publish_release(config.broker_for("catalog"), keys, release, devices, store, bodies)
    finally:
        store.close()
    data = {
        "version": result.version,
        "sha256": result.sha256,
        "length": result.length,
        "devices": list(result.devices),
        "guide": diff.to_dict(),
    }
    emit(data, args.json, "\n".join([*diff.lines(), f"catalog version {result.version} ({result.length} bytes) "
                                      f"published to {len(result.devices)} kiosk(s); see `kiosk-central catalog status`"]))  # fmt: skip
    return 0


def add_status(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`catalog status`."""
    parser = sub.add_parser(
        "status",
        help="show which catalog version each kiosk should run, runs, and its latest update step",
        description="Catalog rollout per kiosk from the central store: desired, reported, last up/ack.",
    )
    parser.add_argument("--config", type=Path, help="central TOML file")
    parser.add_argument("--store", help="store URL instead of --config")
    add_json_flag(parser)
    parser.set_defaults(func=_status)


def _status(args: argparse.Namespace) -> int:
    if (args.config is None) == (args.store is None):
        raise UserError(
            "give exactly one of --config FILE or --store URL", "e.g. --config /etc/madoguchi/central.toml"
        )
    url = args.store or load_central_config(args.config, check_files=False).central.store_url
    store = open_store(url, create=False)
    try:
        rows = store.rollout()
    finally:
        store.close()

    def text() -> str:
        if not rows:
            return "no kiosks known yet"
        lines = [f"{'DEVICE':<20} {'STATE':<10} {'DESIRED':>7} {'RUNNING':>7}  LAST STEP"]
        for r in rows:
            step = f"{r.last_status} {r.last_detail or ''}".strip() if r.last_status else "-"
            lines.append(f"{r.device_id:<20} {r.state:<10} {r.desired_version or '-':>7} "
                         f"{r.reported_version or '-':>7}  {step}")  # fmt: skip
        return "\n".join(lines)

    emit({"devices": [r.to_dict() for r in rows]}, args.json, text)
    return 0


def add_refresh(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`catalog refresh`."""
    parser = sub.add_parser(
        "refresh",
        help="re-sign and re-publish catalog documents and fleet/keys before they expire",
        description="Sign again, with a later expiry, every retained catalog manifest and down/desired "
        "document past half of its 14-day lifetime (same version and hash: kiosks running it do "
        "nothing), and fleet/keys past half of its year when the root key is at hand; then publish every "
        "retained fleet document the centre keeps again (restores them after a broker lost them). "
        "`kiosk-central serve` does this every hour when [web] signing_keys_dir is set; run this "
        "command from a timer otherwise, and with --root-key where the root key is kept offline.",
    )
    _config_option(parser)
    parser.add_argument(
        "--keys",
        type=Path,
        help="signing key folder (default [web] signing_keys_dir, else <data_dir>/signing)",
    )
    parser.add_argument("--root-key", type=Path, help="root key file when it is not in the key folder")
    parser.add_argument("--force", action="store_true", help="re-sign everything now, due or not")
    add_json_flag(parser)
    parser.set_defaults(func=_refresh)


def _refresh(args: argparse.Namespace) -> int:
    config = load_central_config(args.config)
    keys = SigningKeys(_keys_dir(args, config), root_key=_root_key(args))
    store = open_store(config.central.store_url)
    broker = config.broker_for("catalog")
    try:
        report = refresh_documents(broker, keys, store, force=args.force)
        republished = republish_retained(broker, store)
    finally:
        store.close()
    versions = ", ".join(str(v) for v in report.catalogs) or "none"
    text = f"catalog versions re-signed: {versions} ({report.desired} kiosk documents)"
    text += f"; {republished} retained document(s) published again"
    if report.keys_version is not None:
        text += f"; fleet/keys re-signed as version {report.keys_version}"
    text += "".join(f"\nwarning: {w}" for w in report.warnings)
    emit({**report.to_dict(), "republished": republished}, args.json, text)
    return 0
