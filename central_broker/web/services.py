"""The services `kiosk-central serve` adds beside the ingest: the web (uvicorn) and the RPC service for
the semi-self register (`payment.lookup`, `payment.mark_paid`).

The RPC service connects with the rpc identity (`CentralConfig.broker_for("rpc")`, svc-rpc); the
web's fleet actions with the catalog identity (svc-catalog, see `web.setup.open_web_context`).

One `RpcServer` must serve every RPC method (they share the `$share/rpc/...` subscription, so a
second server in the same group would get half the requests for methods it does not know): pass
the other methods (e.g. `issuance_handlers(...)`) as `rpc_handlers` to have them served together.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

from central_broker.orders.rpc import payment_handlers
from central_broker.queue import QueueService
from central_broker.rpc_server import RpcHandler, RpcServer, Subscriber
from central_broker.store import FleetStore
from central_broker.web.app import create_app
from central_broker.web.kpi_warm import KpiWarmer
from central_broker.web.server import WebServer
from central_broker.web.setup import open_web_context
from madoguchi.config.central import CentralConfig

__all__ = ["CentralServices"]

_logger = logging.getLogger(__name__)

_RPC_CONNECT_S = 10.0
_RPC_RETRY_S = 5


class CentralServices:
    """Web dashboard plus the RPC service, started and stopped together.

    Args:
        config: the central configuration (`[web]` for the listener; port 0 disables the web).
        store: the open fleet store (same database for accounts and orders).
        rpc_handlers: further RPC methods to serve on the same RPC server.
        rpc_extra: topic filter → handler for further subscriptions of the RPC client (e.g. fleet/control).
        web_port: overrides `[web] port` (`kiosk-central serve --web-port`).
        queue: the visit queue the counter, board, status and KPI pages work on (None: they answer 503).
    """

    def __init__(
        self,
        config: CentralConfig,
        store: FleetStore,
        rpc_handlers: Mapping[str, RpcHandler] | None = None,
        *,
        web_port: int | None = None,
        rpc_extra: Mapping[str, Subscriber] | None = None,
        queue: QueueService | None = None,
    ) -> None:
        if web_port is not None:
            config = config.model_copy(update={"web": config.web.model_copy(update={"port": web_port})})
        self.config = config
        self.ctx = open_web_context(config, store, queue=queue)
        self.handlers = {**payment_handlers(self.ctx.orders), **(rpc_handlers or {})}
        self.rpc_extra = dict(rpc_extra or {})
        self.rpc: RpcServer | None = None
        self._stop = threading.Event()
        self._rpc_thread: threading.Thread | None = None
        self.web = (
            WebServer(create_app(self.ctx), config.web.host, config.web.port) if config.web.port else None
        )
        if self.web is None:
            _logger.info("web disabled ([web] port = 0)")
        self.kpi = KpiWarmer(self.ctx) if self.web is not None else None

    def start(self) -> None:
        """Start the web (if enabled) and, in the background, the RPC service (it waits for the broker).

        Raises:
            UserError: the web port cannot be used.
        """
        if self.web is not None:
            self.web.start()
        if self.kpi is not None:
            self.kpi.start()
        self._rpc_thread = threading.Thread(target=self._run_rpc, name="rpc-start", daemon=True)
        self._rpc_thread.start()

    def _run_rpc(self) -> None:
        while not self._stop.is_set():
            server = RpcServer(self.config.broker_for("rpc"), self.handlers, extra=self.rpc_extra)
            try:
                server.start(timeout=_RPC_CONNECT_S)
            except TimeoutError as exc:
                _logger.warning("RPC service: %s; retrying in %d s", exc, _RPC_RETRY_S)
                self._stop.wait(_RPC_RETRY_S)
                continue
            self.rpc = server
            _logger.info("RPC service serving %s", ", ".join(sorted(self.handlers)))
            return

    def describe(self) -> str:
        """One line for the start-up message."""
        web = self.web.url if self.web is not None else "web disabled"
        return f"web {web}, rpc {', '.join(sorted(self.handlers))}"

    def stop(self) -> None:
        """Stop both."""
        self._stop.set()
        if self._rpc_thread is not None:
            self._rpc_thread.join(_RPC_CONNECT_S + 5)
        if self.rpc is not None:
            self.rpc.stop()
        if self.kpi is not None:
            self.kpi.stop()
        if self.web is not None:
            self.web.stop()
        if self.ctx.online_check is not None:
            self.ctx.online_check.close()
