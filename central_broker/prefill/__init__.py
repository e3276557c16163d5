"""書かない窓口 on the central: card data attached to a visit, encrypted at rest, shown to the counter that
called the visit, deleted when the visit ends or at midnight JST (issue 19 item 3, docs/prefill.md)."""

from __future__ import annotations

from central_broker.prefill.hosting import PrefillHost
from central_broker.prefill.keys import load_prefill_key, prefill_key_file
from central_broker.prefill.rpc import PrefillRpc
from central_broker.prefill.store import PrefilledVisit, PrefillStore, counter_may_see
from central_broker.prefill.sweeper import PrefillSweeper

__all__ = [
    "PrefillHost",
    "PrefillRpc",
    "PrefillStore",
    "PrefillSweeper",
    "PrefilledVisit",
    "counter_may_see",
    "load_prefill_key",
    "prefill_key_file",
]
