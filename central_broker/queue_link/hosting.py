"""The visit queue inside `kiosk-central serve`: its RPC methods and the congestion publisher.

`QueueHost.from_config` opens the queue core on the central store (same database, its own tables), maps
`[queue]` to `QueueConfig`, and builds the RPC methods (served by the shared RPC server as svc-rpc) and
the lamp publisher (svc-catalog). Without a catalog identity the methods are still served, but the lamps
are not published (the caller decides, see `kiosk-central serve`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from central_broker.guide.visit_take import GuideTakes
from central_broker.queue import NoShowPolicy, QueueConfig, QueueService, open_queue
from central_broker.queue_link.branches import BranchResolver
from central_broker.queue_link.congestion import CongestionPublisher
from central_broker.queue_link.ratelimit import TokenBuckets
from central_broker.queue_link.rpc import QueueRpc
from central_broker.rpc_server import RpcHandler
from central_broker.store import FleetStore
from madoguchi.config.central import CentralConfig
from madoguchi.config.queue import QueueSection
from madoguchi.contracts.catalog import Catalog, load_catalog, load_sample_catalog

__all__ = ["QueueHost", "demo_section", "public_base", "queue_config"]

_logger = logging.getLogger(__name__)


def queue_config(section: QueueSection) -> QueueConfig:
    """`[queue]` as the core's `QueueConfig`."""
    opening, closing = section.hours
    return QueueConfig(
        opening_time=opening,
        closing_time=closing,
        default_service_minutes=section.default_service_minutes,
        service_minutes=dict(section.service_minutes),
        daily_cap=dict(section.category_caps),
        default_daily_cap=section.daily_cap,
        no_show_recalls=section.no_show_recalls,
        no_show_policy=NoShowPolicy(section.no_show),
        closed_categories=frozenset(section.closed_categories),
    )


def demo_section(config: CentralConfig) -> QueueSection:
    """`[queue]`; for a demo configuration without a `[queue]` table (`[issuance] demo = true`, as older
    `kiosk demo`s wrote it; the demo now writes `[queue] always_open = true`) issuing at every hour."""
    demo = config.issuance is not None and config.issuance.demo and "queue" not in config.model_fields_set
    return config.queue.model_copy(update={"always_open": True}) if demo else config.queue


def public_base(config: CentralConfig) -> str:
    """`[queue] public_url`, else the central's own web address (logged: residents' phones cannot reach it)."""
    if config.queue.public_url:
        return config.queue.public_url
    wildcard = config.web.host in ("0.0.0.0", "::", "")  # noqa: S104 - not a bind: a listener on every address
    host = "127.0.0.1" if wildcard else config.web.host
    return f"http://{host}:{config.web.port}"


class QueueHost:
    """The queue service with what `serve` needs from it.

    Args:
        queue: the core on the central store.
        rpc: its RPC methods.
        publisher: the lamp publisher, or None when lamps are not published.
    """

    def __init__(self, queue: QueueService, rpc: QueueRpc, publisher: CongestionPublisher | None) -> None:
        self.queue = queue
        self.rpc = rpc
        self.publisher = publisher
        if publisher is not None:
            rpc.on_change = publisher.notify

    @classmethod
    def build(
        cls,
        config: CentralConfig,
        store: FleetStore,
        catalog: Catalog,
        *,
        publish: bool = True,
        poll_s: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> QueueHost:
        """The queue on `store`'s engine with `catalog`; `publish`: run the lamp publisher as svc-catalog.

        `poll_s`: how often the publisher looks for changes made by other processes; `clock`: the queue's
        (tests pass a `SteppableClock`)."""
        section = demo_section(config)
        queue = open_queue(store.engine, catalog, queue_config(section), clock=clock)
        resolver = BranchResolver(store.engine, section.branches)
        base = public_base(config)
        if not section.public_url:
            _logger.warning(
                "[queue] public_url is not set: ticket QR codes point at %s, which residents' phones cannot "
                "reach; set it to the public address of the status pages",
                base,
            )
        rpc = QueueRpc(queue, resolver, TokenBuckets(section.take_burst, section.take_per_minute), base)
        rpc.guide_takes = GuideTakes.open(config, catalog, store.engine, clock)
        publisher = (
            CongestionPublisher(
                config.broker_for("catalog"), queue, resolver, every_s=section.publish_every_s, poll_s=poll_s
            )
            if publish
            else None
        )
        return cls(queue, rpc, publisher)

    @classmethod
    def from_config(
        cls, config: CentralConfig, store: FleetStore, *, publish: bool = True, web_port: int | None = None
    ) -> QueueHost | None:
        """None when `[queue] enabled = false`. `web_port` overrides `[web] port` (`serve --web-port`), which
        the status pages' address falls back on."""
        if not config.queue.enabled:
            return None
        if web_port is not None:
            config = config.model_copy(update={"web": config.web.model_copy(update={"port": web_port})})
        catalog_file = config.central.catalog_file
        catalog = load_catalog(catalog_file) if catalog_file else load_sample_catalog()
        return cls.build(config, store, catalog, publish=publish)

    @property
    def handlers(self) -> dict[str, RpcHandler]:
        """RPC method → handler."""
        return self.rpc.handlers()

    def start(self) -> None:
        """Start the lamp publisher (it connects in the background)."""
        if self.publisher is not None:
            self.publisher.start()

    def stop(self) -> None:
        """Stop the publisher; the core shares the store's engine, which the store closes."""
        if self.publisher is not None:
            self.publisher.stop()
        self.queue.close()
