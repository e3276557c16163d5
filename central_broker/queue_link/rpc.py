"""The visit-queue RPC methods kiosks call: `queue.take`, `queue.block`, `queue.merge` (docs/queue.md).

Registered on the central `RpcServer` (which checks ResponseTopic, deadline and replays a finished
answer to a retry of the same request). On top of that, here:

- the branch is the kiosk's branch in the central store (`BranchResolver`), never a request field;
- `queue.take` is rate-limited per kiosk (`TokenBuckets`; refusal `rate_limited` with `retry_after_s`);
- a `queue.take` retry with the same `req_id` gets the very ticket of the first attempt, even when the
  server's cache cannot answer it (e.g. the parameters came back in another order or language); the
  same `req_id` for another category is refused (`invalid`), never a second number;
- every refusal is `RpcError` code `refused` with `QueueRefusal` in `data` (`kind`, message, hint);
- a take or a merge tells the congestion publisher that the branch changed (`on_change`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from central_broker.queue import QueueError, QueueService, TicketSource
from central_broker.queue_link.branches import BranchError, BranchResolver
from central_broker.queue_link.ratelimit import TokenBuckets
from central_broker.queue_link.views import merge_view, offline_tickets, ticket_view
from central_broker.rpc_server import RpcCall, RpcFailure, RpcHandler
from madoguchi.contracts.queue import (
    BlockParams,
    BlockView,
    MergeParams,
    MergeView,
    QueueMethod,
    QueueRefusal,
    RefusalKind,
    TakeParams,
    TicketView,
)
from madoguchi.contracts.rpc import RpcErrorCode

__all__ = ["QueueRpc", "refusal"]

_logger = logging.getLogger(__name__)

_REMEMBER_MS = 10 * 60 * 1000  # a take is remembered this long after its deadline
_MAX_REMEMBERED = 10_000
_STRIPES = 64

TakeKey = tuple[str, str]  # device, req_id


def refusal(kind: str, message: str, hint: str = "", retry_after_s: int | None = None) -> RpcFailure:
    """An `RpcFailure` of code `refused` carrying `QueueRefusal` data."""
    data = QueueRefusal(kind=kind, message=message[:500], hint=hint[:500], retry_after_s=retry_after_s)
    text = f"{message}; {hint}" if hint else message
    return RpcFailure(RpcErrorCode.REFUSED, text, data.to_data())


class QueueRpc:
    """The queue methods over one `QueueService`.

    Args:
        queue: the queue core on the central store.
        resolver: device → branch from the store.
        limiter: per-kiosk bucket for `queue.take`.
        public_base: base address of the resident status page (`<base>/q/<token>`).
        on_change: called with a branch after a take or merge changed its lines.
        clock: seconds since the Unix epoch, as the RPC server's (request deadlines are in its time).
    """

    def __init__(
        self,
        queue: QueueService,
        resolver: BranchResolver,
        limiter: TokenBuckets,
        public_base: str,
        on_change: Callable[[str], None] | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.queue = queue
        self.resolver = resolver
        self.limiter = limiter
        self.public_base = public_base
        self.on_change = on_change or (lambda _branch: None)
        self._clock = clock
        self._stripes = [threading.Lock() for _ in range(_STRIPES)]
        self._lock = threading.Lock()
        self._taken: OrderedDict[TakeKey, tuple[int, str, TicketView]] = OrderedDict()

    def handlers(self) -> dict[str, RpcHandler]:
        """Method name → handler, for `RpcServer` / `CentralServices(rpc_handlers=...)`."""
        return {
            QueueMethod.TAKE.value: self.take,
            QueueMethod.BLOCK.value: self.block,
            QueueMethod.MERGE.value: self.merge,
        }

    # --- helpers -------------------------------------------------------------------------------------

    def _branch(self, device_id: str) -> str:
        try:
            return self.resolver.branch_of(device_id)
        except BranchError as exc:
            _logger.warning("queue RPC from %s refused: %s", device_id, exc.message)
            raise refusal(exc.kind.value, exc.message, exc.hint) from exc

    @staticmethod
    def _refused(device_id: str, method: str, exc: QueueError) -> RpcFailure:
        _logger.info("%s %s refused (%s): %s", device_id, method, exc.kind.value, exc.message)
        return refusal(exc.kind.value, exc.message, exc.hint)

    def _changed(self, branch: str) -> None:
        try:
            self.on_change(branch)
        except Exception:  # the lamps are re-published periodically anyway
            _logger.exception("queue: congestion notification for %s failed", branch)

    def _remembered(self, key: TakeKey, category: str) -> TicketView | None:
        with self._lock:
            found = self._taken.get(key)
        if found is None:
            return None
        if found[1] != category:
            raise refusal(
                RefusalKind.INVALID.value,
                "this request id was already used for another category",
                "send a new request id for a new ticket",
            )
        return found[2]

    def _remember(self, key: TakeKey, deadline_ms: int, category: str, view: TicketView) -> None:
        now = int(self._clock() * 1000)
        with self._lock:
            self._taken[key] = (deadline_ms + _REMEMBER_MS, category, view)
            while self._taken:
                oldest, (expires, _, _) = next(iter(self._taken.items()))
                if expires >= now and len(self._taken) <= _MAX_REMEMBERED:
                    break
                del self._taken[oldest]

    # --- methods -------------------------------------------------------------------------------------

    def take(self, call: RpcCall) -> TicketView:
        """`queue.take`: the next number of a category at the kiosk's branch."""
        params = TakeParams.model_validate(call.params)
        key = (call.device_id, call.req_id)
        with self._stripes[hash(key) % _STRIPES]:
            again = self._remembered(key, params.category)
            if again is not None:
                _logger.info(
                    "%s queue.take retried (%s): same ticket %s", call.device_id, call.req_id, again.number
                )
                return again
            wait = self.limiter.take(call.device_id)
            if wait > 0:
                retry = self.limiter.retry_after_s(wait)
                _logger.warning("%s queue.take rate-limited (retry after %d s)", call.device_id, retry)
                raise refusal(
                    RefusalKind.RATE_LIMITED.value,
                    "this kiosk asked for numbers too often",
                    f"wait {retry} s, then try again",
                    retry,
                )
            branch = self._branch(call.device_id)
            try:
                ticket = self.queue.take(
                    branch,
                    params.category,
                    source=TicketSource.KIOSK,
                    device_id=call.device_id,
                    then=tuple(params.then),
                )
            except QueueError as exc:
                raise self._refused(call.device_id, "queue.take", exc) from exc
            view = ticket_view(ticket, self.queue.catalog, self.public_base)
            self._remember(key, call.deadline_ms, params.category, view)
        self._changed(branch)
        return view

    def block(self, call: RpcCall) -> BlockView:
        """`queue.block`: the kiosk's offline number block at its branch (assigned once, then the same)."""
        BlockParams.model_validate(call.params)
        branch = self._branch(call.device_id)
        try:
            block = self.queue.offline_block(branch, call.device_id)
        except QueueError as exc:
            raise self._refused(call.device_id, "queue.block", exc) from exc
        numbers = block.numbers
        return BlockView(block=block.block, first=numbers[0], last=numbers[-1])

    def merge(self, call: RpcCall) -> MergeView:
        """`queue.merge`: tickets the kiosk issued offline (idempotent: a resubmission changes nothing)."""
        params = MergeParams.model_validate(call.params)
        branch = self._branch(call.device_id)
        try:
            merged = self.queue.merge_offline(branch, call.device_id, offline_tickets(params.tickets))
        except QueueError as exc:
            raise self._refused(call.device_id, "queue.merge", exc) from exc
        self._changed(branch)
        return merge_view(params.tickets, merged)
