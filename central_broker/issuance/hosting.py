"""Certificate issuance inside `kiosk-central serve`: one process, one RPC server for every method.

`IssuanceHost.from_config` builds the service from `[issuance]`; its handlers and kill-switch
subscription go to the shared RPC server (`CentralServices`, rpc identity `broker_for("rpc")`), its incidents become fleet alerts on the
kiosk that reported them (alert id `incident-<id>`, shown on the dashboard), and a background thread
sweeps expired documents every minute.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from pathlib import Path

from central_broker.issuance.endpoints import control_subscriber, issuance_handlers
from central_broker.issuance.incidents import Incident
from central_broker.issuance.runner import build_service
from central_broker.issuance.service import IssuanceService
from central_broker.rpc_server import RpcHandler, Subscriber
from central_broker.store import FleetStore
from madoguchi.config.central import CentralConfig
from madoguchi.contracts.catalog import load_catalog, load_sample_catalog
from madoguchi.contracts.messages import AlertMessage, Severity

__all__ = ["IssuanceHost", "issuance_dir"]

_logger = logging.getLogger(__name__)

SWEEP_EVERY_S = 60.0


def issuance_dir(config: CentralConfig) -> Path:
    """Where `serve` keeps the issuance store and registry: `<data_dir>/issuance`."""
    return Path(config.central.data_dir) / "issuance"


class IssuanceHost:
    """The issuance service with what `serve` needs from it."""

    def __init__(
        self, service: IssuanceService, control: Mapping[str, Subscriber], store: FleetStore
    ) -> None:
        self.service = service
        self.control = dict(control)
        self._fleet = store
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        service.on_incident = self._alert

    @classmethod
    def from_config(cls, config: CentralConfig, store: FleetStore) -> IssuanceHost | None:
        """None when the configuration has no `[issuance]` section."""
        if config.issuance is None:
            return None
        catalog_file = config.central.catalog_file
        catalog = load_catalog(catalog_file) if catalog_file else load_sample_catalog()
        service, keys = build_service(config.issuance, issuance_dir(config), catalog)
        return cls(service, control_subscriber(service, keys), store)

    @property
    def handlers(self) -> dict[str, RpcHandler]:
        """RPC method → handler."""
        return issuance_handlers(self.service)

    def _alert(self, incident: Incident) -> None:
        detail = f"incident {incident.incident_id}: {incident.kind.value} {incident.serial or ''} {incident.detail}"
        message = AlertMessage(
            ts=incident.opened_ms,
            code=f"incident_{incident.kind.value}",
            severity=Severity.WARNING,
            detail=detail[:500],
        )
        self._fleet.record_alert(incident.device_id, f"incident-{incident.incident_id}", message)

    def start(self) -> None:
        """Start the sweep thread."""
        self._thread = threading.Thread(target=self._sweep, name="issuance-sweep", daemon=True)
        self._thread.start()

    def _sweep(self) -> None:
        while not self._stop.wait(SWEEP_EVERY_S):
            try:
                self.service.sweep()
            except Exception:
                _logger.exception("issuance sweep failed")

    def stop(self) -> None:
        """Stop sweeping, background renders and renderer processes; close the databases."""
        self._stop.set()
        self.service.close()
        pool = self.service.render_pool
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        self.service.store.close()
        self.service.registry.close()
