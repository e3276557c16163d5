"""Keep the broker's retained fleet documents present: publish the centre's copies again after a loss.

Every retained document the centre publishes (`fleet/keys`, `fleet/control`, catalog bodies and
manifest, each kiosk's `down/desired`) is kept byte for byte in the central store
(`FleetStore.record_retained`). A broker that restarts without persistence, a new broker node or a
lost persistence file would otherwise leave new and re-imaged kiosks with no keys, no catalog and no
kill switch. `RetainedKeeper` (run by `kiosk-central serve`) keeps one connection to the broker as the
catalog service and, on every (re)connect — so at start-up and after each broker restart — publishes
all of them again. Re-publishing is harmless: kiosks ignore documents they already applied (same
version and hash). `republish_retained` is the one-shot form (`kiosk-central catalog refresh`).
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

from central_broker.catalog_push.publisher import Outgoing, publish_documents
from central_broker.store import FleetStore
from madoguchi.config.broker import BrokerConfig
from madoguchi.contracts.topics import FLEET_KEYS
from madoguchi.errors import UserError
from madoguchi.mqtt_client import make_client

__all__ = ["RetainedKeeper", "republish_retained"]

_logger = logging.getLogger(__name__)

_RETRY_S = 5.0


def republish_retained(broker: BrokerConfig, store: FleetStore) -> int:
    """Publish every retained document the store keeps again (QoS 1, PUBACKs awaited); how many."""
    documents = sorted(store.retained_documents(), key=lambda d: d[0] != FLEET_KEYS)  # keys verify the rest
    if documents:
        publish_documents(broker, [Outgoing(topic, payload) for topic, payload in documents])
    return len(documents)


class RetainedKeeper:
    """Re-publishes the stored retained documents at start-up and after every broker reconnect.

    Args:
        broker: the catalog service's connection (it may write every fleet document).
        store: the central store holding the documents.
    """

    def __init__(self, broker: BrokerConfig, store: FleetStore) -> None:
        self._broker = broker
        self._store = store
        self._due = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client = make_client(f"svc-catalog-keeper-{uuid.uuid4().hex[:8]}", broker)
        self._client.on_connect = self._on_connect
        self.passes = 0  # completed re-publications (tests and status)
        self.published = 0  # documents in the last one

    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if not getattr(reason, "is_failure", False):
            self._due.set()  # publish from the worker: no PUBACK waits in paho's callback thread

    def start(self) -> None:
        """Connect in the background and start the worker."""
        self._client.reconnect_delay_set(min_delay=1, max_delay=10)
        self._client.connect_async(self._broker.host, self._broker.port, keepalive=self._broker.keepalive)
        self._client.loop_start()
        self._thread = threading.Thread(target=self._run, name="retained-keeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Disconnect and stop the worker."""
        self._stop.set()
        self._due.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._client.disconnect()
        self._client.loop_stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._due.wait()
            if self._stop.is_set():
                return
            self._due.clear()
            try:
                self.published = republish_retained(self._broker, self._store)
                self.passes += 1
                _logger.info("retained fleet documents published again: %d", self.published)
            except UserError as exc:
                _logger.warning("re-publishing retained fleet documents failed: %s; retrying", exc.message)
                if not self._stop.wait(_RETRY_S):
                    self._due.set()
            except Exception:
                _logger.exception("re-publishing retained fleet documents failed")
                if not self._stop.wait(_RETRY_S):
                    self._due.set()
