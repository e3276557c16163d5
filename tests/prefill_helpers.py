"""Shared bits of the 書かない窓口 tests: the test persona's basic four and a prefill store on a web queue."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from central_broker.prefill import PrefillRpc, PrefillStore, load_prefill_key
from central_broker.queue import QueueService, TakenTicket
from central_broker.rpc_server import RpcCall
from madoguchi.clock import SteppableClock
from madoguchi.contracts.prefill import AttachParams, AttachView, PrefillFields, PrefillMethod

__all__ = ["DEVICE", "FIELDS", "attach", "open_prefill"]

DEVICE = "jp-131016-k01"
# The valid-adult persona of the card emulator (its kenhojo basic four).
FIELDS = PrefillFields(
    name="窓口 花子", address="東京都千代田区霞が関二丁目1番2号", birth_date="19800401", sex="female"
)
FORM_PROCEDURES = ["shussei", "konin"]  # the sample catalog's procedures with a form


def open_prefill(queue: QueueService, key_dir: Path, clock: SteppableClock) -> PrefillStore:
    """A prefill store on the queue's database, deleting with the queue's visit ends."""
    store = PrefillStore(queue.engine, load_prefill_key(key_dir / "prefill.key"), clock=clock)
    store.create_schema()
    store.install(queue)
    return store


def attach(
    queue: QueueService,
    store: PrefillStore,
    ticket: TakenTicket,
    *,
    device: str = DEVICE,
    fields: PrefillFields = FIELDS,
) -> AttachView:
    """Call the `prefill.attach` handler as the RPC server would for `device`."""
    params = AttachParams(status_token=ticket.token, procedures=FORM_PROCEDURES, fields=fields)
    call = RpcCall(
        device,
        str(uuid.uuid4()),
        PrefillMethod.ATTACH.value,
        params.model_dump(mode="json"),
        int(time.time() * 1000) + 10_000,
    )
    return PrefillRpc(queue, store).attach(call)
