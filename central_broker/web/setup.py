"""Open everything the web needs from the central configuration (same database as the fleet store)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from central_broker.accounts import AccountStore
from central_broker.catalog_push.bodies import CatalogBodies
from central_broker.guide.visit_code import guide_secret_file
from central_broker.issuance.hosting import issuance_dir
from central_broker.issuance.online import OnlineCheck
from central_broker.orders import OrderStore
from central_broker.pki.crl_status import CrlWatch
from central_broker.queue import QueueService
from central_broker.store import FleetStore, open_store
from central_broker.web.context import WebContext
from central_broker.web.fleet_actions import FleetActions
from central_broker.web.queue_common import load_board_secret
from madoguchi.config.central import CentralConfig
from madoguchi.contracts.catalog import Catalog, load_catalog, load_sample_catalog

__all__ = ["board_secret_file", "catalog_of", "open_accounts", "open_orders", "open_web_context"]


def board_secret_file(config: CentralConfig) -> Path:
    """Where the display boards' secret lives: `<data_dir>/web/board.key` (created at first use)."""
    return config.central.data_dir / "web" / "board.key"


def catalog_of(config: CentralConfig) -> Catalog:
    """The catalog in force: `[central] catalog_file`, else the sample catalog."""
    file = config.central.catalog_file
    return load_catalog(file) if file is not None else load_sample_catalog()


def open_accounts(
    store: FleetStore, config: CentralConfig, clock: Callable[[], float] = time.time
) -> AccountStore:
    """The account store on the fleet store's database, with the `[web]` lockout and session settings."""
    accounts = AccountStore(
        store.engine,
        clock=clock,
        max_failures=config.web.max_failed_logins,
        lockout_s=config.web.lockout_minutes * 60,
        session_ttl_s=config.web.session_hours * 3600,
    )
    accounts.create_schema()
    return accounts


def open_orders(store: FleetStore, catalog: Catalog, clock: Callable[[], float] = time.time) -> OrderStore:
    """The order store on the fleet store's database."""
    orders = OrderStore(store.engine, catalog, clock=clock)
    orders.create_schema()
    return orders


def open_web_context(
    config: CentralConfig,
    store: FleetStore | None = None,
    clock: Callable[[], float] = time.time,
    *,
    queue: QueueService | None = None,
) -> WebContext:
    """The web context: stores on the central database, the catalog, cookie settings, the public
    certificate check on the issuance store when `[issuance]` is configured, and the visit-queue pages
    on `queue` (with the display boards' secret from `board_secret_file`) when one is given."""
    fleet = store or open_store(
        config.central.store_url, stale_after_s=config.fleet.stale_after_s, clock=clock
    )
    catalog = catalog_of(config)
    return WebContext(
        fleet=fleet,
        accounts=open_accounts(fleet, config, clock),
        orders=open_orders(fleet, catalog, clock),
        catalog=catalog,
        actions=FleetActions(
            config.broker_for("catalog"),
            config.web.signing_keys_dir,
            fleet,
            download_url=config.fleet.download_url,
            bodies=CatalogBodies.in_data_dir(config.central.data_dir),
        ),
        secure_cookies=config.web.secure_cookies,
        clock=clock,
        central_warnings=CrlWatch(
            config.pki_dir, config.pki.broker_dir, warn_s=config.pki.crl_warn_days * 86_400
        ).problems,
        online_check=(
            None if config.issuance is None else OnlineCheck.open(config.issuance, issuance_dir(config))
        ),
        queue=queue,
        board_secret=None if queue is None else load_board_secret(board_secret_file(config)),
        guide_secret=None if queue is None else load_board_secret(guide_secret_file(config)),
        queue_branches=tuple(config.queue.branches),
    )
