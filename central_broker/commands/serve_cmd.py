"""`kiosk-central serve`: run the central services in the foreground (ingest, web, RPC, issuance)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from central_broker.catalog_push.refresh import RefreshLoop
from central_broker.catalog_push.signing import SigningKeys
from central_broker.ingest import Ingest
from central_broker.issuance.hosting import IssuanceHost
from central_broker.rollout.runner import Rollout
from central_broker.rollout.watch import RolloutWatch
from central_broker.store import FleetStore, open_store
from central_broker.web.services import CentralServices
from madoguchi.config.central import CentralConfig, load_central_config, local_central_config
from madoguchi.errors import UserError
from madoguchi.signals import stop_on_signals

__all__ = ["central_config_from_args", "register"]

_logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `serve`."""
    serve = subparsers.add_parser(
        "serve",
        help="run the central services (ingest, web dashboard, payment and issuance RPC) until Ctrl-C or SIGTERM",
        description=(
            "Run the central services in the foreground: the ingest reads every kiosk's state, health, "
            "statistics, events and alerts into the central store; the web dashboard (operators, "
            "counter staff, auditors); one RPC service for the payment orders of semi-self registers "
            "and, when [issuance] is configured, certificate issuance; hourly re-signing of retained "
            "catalog documents when [web] signing_keys_dir is set. "
            "Use --config FILE, or --broker URL --data-dir DIR for a local set-up (SQLite in DIR)."
        ),
    )
    serve.add_argument("--config", type=Path, help="central TOML file")
    serve.add_argument("--broker", help="broker URL for a local set-up, e.g. mqtt://127.0.0.1:1883")
    serve.add_argument("--data-dir", type=Path, help="data folder for a local set-up (central.db goes there)")
    serve.add_argument(
        "--web-port", type=int, help="web dashboard port (default: [web] port, 8080; 0 disables it)"
    )
    serve.set_defaults(func=_serve)


def central_config_from_args(args: argparse.Namespace) -> CentralConfig:
    """The central config from `--config`, or from `--broker` and `--data-dir`."""
    if args.config is not None:
        if args.broker or args.data_dir:
            raise UserError("--config cannot be combined with --broker/--data-dir", "use one or the other")
        return load_central_config(args.config)
    if not args.broker or args.data_dir is None:
        raise UserError(
            "no configuration given",
            "pass --config /etc/madoguchi/central.toml, or --broker mqtt://127.0.0.1:1883 --data-dir DIR",
        )
    return local_central_config(args.data_dir, args.broker)


def _serve(args: argparse.Namespace) -> int:
    config = central_config_from_args(args)
    store = open_store(config.central.store_url, stale_after_s=config.fleet.stale_after_s)
    ingest = Ingest(store, config.broker)
    ingest.start()  # first: kiosks are seen online while issuance (registry, renderers) gets ready
    try:
        issuance = IssuanceHost.from_config(config, store)
    except BaseException:
        ingest.stop()
        store.close()
        raise
    services = CentralServices(
        config,
        store,
        rpc_handlers=None if issuance is None else issuance.handlers,
        web_port=args.web_port,
        rpc_extra=None if issuance is None else issuance.control,
    )
    refresher = _refresher(config, store)
    watch = _rollout_watch(config, store)
    try:
        with stop_on_signals() as stop:
            services.start()
            if issuance is not None:
                issuance.start()
            if refresher is not None:
                refresher.start()
            if watch is not None:
                watch.start()
            print(
                f"kiosk-central serve: ingest {ingest.client_id} → {config.broker.url}, "
                f"store {config.central.store_url_redacted}; {services.describe()}; Ctrl-C stops",
                file=sys.stderr,
                flush=True,
            )
            stop.wait()
    finally:
        if refresher is not None:
            refresher.stop()
        if watch is not None:
            watch.stop()
        services.stop()
        if issuance is not None:
            issuance.stop()
        ingest.stop()
        store.close()
    return 0


def _refresher(config: CentralConfig, store: FleetStore) -> RefreshLoop | None:
    """Hourly re-signing of retained fleet documents, when the signing keys are configured."""
    folder = config.web.signing_keys_dir
    if folder is None or not (folder / "catalog.key").is_file():
        _logger.info("no signing keys configured: retained catalog documents are not re-signed by serve")
        return None
    return RefreshLoop(config.broker, SigningKeys(folder), store)


def _rollout_watch(config: CentralConfig, store: FleetStore) -> RolloutWatch | None:
    """Auto-halt of staged rollouts, when the signing keys are configured."""
    folder = config.web.signing_keys_dir
    if folder is None or not (folder / "catalog.key").is_file():
        return None
    return RolloutWatch(Rollout(store, config.broker, SigningKeys(folder)))
