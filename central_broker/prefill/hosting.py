"""書かない窓口 inside `kiosk-central serve`: the store on the queue's database, its RPC method and the sweeper.

`PrefillHost.build(config, queue)` opens the prefill table on the queue's engine with the key from
`<data_dir>/web/prefill.key` (created at first use), hooks it to the queue's visit ends, and builds the
`prefill.attach` handler (served by the shared RPC server as svc-rpc) and the sweeper (start-up, then every
minute). The web shows the store's data on the counter page (`WebContext.prefill`).
"""

from __future__ import annotations

from central_broker.prefill.keys import load_prefill_key, prefill_key_file
from central_broker.prefill.rpc import PrefillRpc
from central_broker.prefill.store import PrefillStore
from central_broker.prefill.sweeper import PrefillSweeper
from central_broker.queue import QueueService
from central_broker.rpc_server import RpcHandler
from madoguchi.config.central import CentralConfig

__all__ = ["PrefillHost"]


class PrefillHost:
    """The prefill store, its RPC method and its sweeper."""

    def __init__(self, store: PrefillStore, queue: QueueService) -> None:
        self.store = store
        self.rpc = PrefillRpc(queue, store)
        self.sweeper = PrefillSweeper(store)

    @classmethod
    def build(cls, config: CentralConfig, queue: QueueService) -> PrefillHost:
        """On `queue`'s database and clock, deleting with its visit ends.

        Raises:
            ConfigError: the key file exists but is not a 32-byte key.
        """
        key = load_prefill_key(prefill_key_file(config))
        store = PrefillStore(queue.engine, key, clock=lambda: queue.now_ms() / 1000)
        store.create_schema()
        store.install(queue)
        return cls(store, queue)

    @property
    def handlers(self) -> dict[str, RpcHandler]:
        """RPC method → handler."""
        return self.rpc.handlers()

    def start(self) -> None:
        """Sweep now (data of ended visits or past midnight), then every minute."""
        self.sweeper.start()

    def stop(self) -> None:
        """Stop the sweeper."""
        self.sweeper.stop()
