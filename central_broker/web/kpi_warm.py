"""Keep the KPI roll-ups warm, so no dashboard request ever parses a month of raw statistics.

`kiosk-central serve` computes the default KPI period (the last 30 days) in the background at start
and then every few minutes: each pass only parses days whose statistics changed since the last one
(usually today; after a catalog change, every day once), and the per-day results land in the shared
`KpiCache` and in the database (`kpi_day`). A request then merges ready-made days.
"""

from __future__ import annotations

import logging
import threading
import time

from central_broker.web.context import WebContext
from central_broker.web.kpi_data import KpiCache
from central_broker.web.kpi_rollup import KpiRollup

__all__ = ["KpiWarmer", "shared_kpi_cache"]

_logger = logging.getLogger(__name__)

WARM_EVERY_S = 300.0


def shared_kpi_cache(ctx: WebContext) -> KpiCache:
    """The process-wide KPI cache of `ctx` (created on first use, backed by `kpi_day`)."""
    with ctx.cache_lock:
        cache: KpiCache | None = ctx.cache.get("kpi")
        if cache is None:
            cache = ctx.cache["kpi"] = KpiCache(KpiRollup(ctx.fleet.engine))
        return cache


class KpiWarmer:
    """Recomputes the default KPI period now and every `interval_s` on a daemon thread."""

    def __init__(self, ctx: WebContext, interval_s: float = WARM_EVERY_S) -> None:
        self._ctx = ctx
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0

    def warm_once(self) -> float:
        """One pass over the default period; returns its seconds."""
        from central_broker.web.kpi_pages import period  # the pages own the default period

        began = time.perf_counter()
        first, last = period(self._ctx, None, None)
        shared_kpi_cache(self._ctx).report(self._ctx.fleet.engine, self._ctx.catalog, first, last)
        self.passes += 1
        return time.perf_counter() - began

    def start(self) -> None:
        """Start the background passes."""
        self._thread = threading.Thread(target=self._run, name="kpi-warm", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                seconds = self.warm_once()
                _logger.debug("KPI roll-ups warm (%.1f s)", seconds)
            except Exception:
                _logger.exception("KPI warm-up failed")
            self._stop.wait(self._interval_s)

    def stop(self) -> None:
        """Stop after the current pass."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
