"""The queue service: one class over the central store's engine (`QueueService`), and `open_queue`."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Engine

from central_broker.queue.kpis import KpiQueries
from central_broker.queue.models import QueueConfig
from central_broker.store.engine import create_store_engine
from madoguchi.contracts.catalog import Catalog

__all__ = ["QueueService", "open_queue"]


class QueueService(KpiQueries):
    """Visits, counters, estimates, offline merge and KPIs of every branch, on one database.

    Built from mixins, one concern each: `Issuing` (take, categories, status token),
    `EstimateQueries`, `Desks` (open/close, line, board, journal), `StaffOperations`, `Routing`,
    `OfflineMerge`, `KpiQueries`. Every write is one transaction that journals itself.
    Safe to share between threads; several processes may share the database.
    """

    owns_engine = False  # set by `open_queue` when it created the engine from a URL

    def close(self) -> None:
        """Release database connections when the service created the engine (a shared one is left alone)."""
        if self.owns_engine:
            self.engine.dispose()


def open_queue(
    url_or_engine: str | Engine,
    catalog: Catalog,
    config: QueueConfig | None = None,
    *,
    clock: Callable[[], float] = time.time,
) -> QueueService:
    """A queue service on the central store at `url_or_engine`, creating its tables if missing.

    Pass `FleetStore.engine` to share the store's connection pool, or a store URL
    (`sqlite:////…/central.db`, `postgresql://…`).

    Raises:
        ConfigError: a URL that is not SQLite or PostgreSQL.
    """
    engine = create_store_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    service = QueueService(engine, catalog, config, clock=clock)
    service.owns_engine = isinstance(url_or_engine, str)
    service.create_schema()
    return service
