"""The visit-queue RPC methods kiosks call: `queue.take`, `queue.block`, `queue.merge` (docs/queue.md).

Registered on the central `RpcServer` (which checks ResponseTopic, deadline and replays a finished
answer to a retry of the same request). On top of that, here:

- the branch is the kiosk's branch in the central store (`BranchResolver`), never a request field;
- `queue.take` is rate-limited per kiosk (`TokenBuckets`; refusal `rate_limited` with `retry_after_s`);
- a retry of `queue.take` or `queue.merge` with the same `req_id` gets the very answer of the first attempt,
  kept in the central store with the ticket or merge it answers (`answers.RpcAnswers`), so a retry that
  reaches another worker or a restarted central gets it too (e.g. with the parameters in another order or
  language); the same `req_id` for another category or other tickets is refused (`invalid`), never numbered;
- every refusal is `RpcError` code `refused` with `QueueRefusal` in `data` (`kind`, message, hint);
- a take or a merge tells the congestion publisher that the branch changed (`on_change`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from central_broker.guide.visit_take import GuideTakes, VisitCodeInvalid
from central_broker.queue import QueueError, QueueService, TakenTicket, TicketMerge, TicketSource
from central_broker.queue_link.answers import RpcAnswers, merge_subject
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

_STRIPES = 64


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
        self.answers = RpcAnswers(queue.engine, queue.now_ms)

    guide_takes: GuideTakes | None = None  # visit codes of the web guide (set by `QueueHost.build`)

    def _guide_takes(self) -> GuideTakes:
        if self.guide_takes is None:
            raise VisitCodeInvalid
        return self.guide_takes

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

    def _answered(self, call: RpcCall, subject: str) -> str | None:
        """The answer kept for this request (JSON), None when it is new.

        Raises:
            RpcFailure: `invalid` when the req_id was used for another method, category or tickets.
        """
        found = self.answers.find(call.device_id, call.req_id)
        if found is None:
            return None
        if (found.method, found.subject) != (call.method, subject):
            raise refusal(
                RefusalKind.INVALID.value,
                "this request id was already used for another request",
                "send a new request id for a new ticket",
            )
        return found.answer

    def _keep(self, conn: Connection, call: RpcCall, subject: str, answer: str) -> None:
        """Keep the answer inside the queue's transaction."""
        self.answers.keep(
            conn,
            device_id=call.device_id,
            req_id=call.req_id,
            method=call.method,
            subject=subject,
            answer=answer,
            deadline_ms=call.deadline_ms,
        )

    def _after_collision(self, call: RpcCall, subject: str) -> str:
        """The answer another worker committed for the same request while this one ran it."""
        kept = self._answered(call, subject)
        if kept is None:  # pragma: no cover - the collision means a row exists (unless it expired since)
            raise RpcFailure(RpcErrorCode.UNAVAILABLE, "the request ran twice at once; try again")
        return kept

    # --- methods -------------------------------------------------------------------------------------

    def take(self, call: RpcCall) -> TicketView:
        """`queue.take`: the next number of a category at the kiosk's branch."""
        params = TakeParams.model_validate(call.params)
        if params.visit_code is not None:  # web guide visit code (issue 19): category and `then` from it
            try:
                params = self._guide_takes().resolve(params)
            except VisitCodeInvalid as exc:
                hint = "answer the guide at this kiosk, or ask at reception"
                raise refusal(RefusalKind.VISIT_CODE_INVALID.value, str(exc), hint) from exc
        with self._stripes[hash((call.device_id, call.req_id)) % _STRIPES]:
            again = self._answered(call, params.category)
            if again is not None:
                view = TicketView.model_validate_json(again)
                _logger.info(
                    "%s queue.take retried (%s): same ticket %s", call.device_id, call.req_id, view.number
                )
                return view
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
            views: list[TicketView] = []

            def record(conn: Connection, ticket: TakenTicket) -> None:
                views.append(ticket_view(ticket, self.queue.catalog, self.public_base))
                self._keep(conn, call, params.category, views[-1].model_dump_json())

            try:
                self.queue.take(
                    branch,
                    params.category,
                    source=TicketSource.KIOSK,
                    device_id=call.device_id,
                    then=tuple(params.then),
                    record=record,
                )
            except QueueError as exc:
                raise self._refused(call.device_id, "queue.take", exc) from exc
            except IntegrityError:  # another worker answered the same request first: its ticket stands
                return TicketView.model_validate_json(self._after_collision(call, params.category))
        self._changed(branch)
        if params.visit_code is not None:  # counted once per new ticket, never for a retried request
            self._guide_takes().taken()
        return views[-1]

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
        subject = merge_subject([(t.number, t.issued_at) for t in params.tickets])
        again = self._answered(call, subject)
        if again is not None:
            return MergeView.model_validate_json(again)
        branch = self._branch(call.device_id)

        def record(conn: Connection, merged: list[TicketMerge]) -> None:
            self._keep(conn, call, subject, merge_view(params.tickets, merged).model_dump_json())

        try:
            merged = self.queue.merge_offline(
                branch, call.device_id, offline_tickets(params.tickets), record=record
            )
        except QueueError as exc:
            raise self._refused(call.device_id, "queue.merge", exc) from exc
        except IntegrityError:  # another worker merged the same request first
            return MergeView.model_validate_json(self._after_collision(call, subject))
        self._changed(branch)
        return merge_view(params.tickets, merged)
