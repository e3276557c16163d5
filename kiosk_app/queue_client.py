"""The kiosk side of the queue RPC (docs/queue.md): `queue.take`, `queue.block` and `queue.merge`.

Every call goes through the shared `RpcClient`: one `req_id` per call, re-sent with that same `req_id`
every `retry_s` until the deadline (the central applies a request once). A refusal (`RpcError` code
`refused`) becomes `QueueRefused` with the central's `QueueRefusal`; other errors stay `RpcCallError`,
and no answer stays `RpcTimeout`.
"""

from __future__ import annotations

import logging

from kiosk_app.rpc_client import RpcCallError, RpcClient
from madoguchi.contracts.queue import (
    BlockParams,
    BlockView,
    MergeParams,
    MergeView,
    OfflineTicketIn,
    QueueMethod,
    QueueRefusal,
    TakeParams,
    TicketView,
)
from madoguchi.contracts.rpc import RpcError

__all__ = ["QueueClient", "QueueRefused"]

_logger = logging.getLogger(__name__)


class QueueRefused(Exception):
    """The central refused to issue (outside hours, category closed, daily cap …): `refusal` says why."""

    def __init__(self, refusal: QueueRefusal) -> None:
        super().__init__(f"{refusal.kind}: {refusal.message}")
        self.refusal = refusal


def _refusal(exc: RpcCallError) -> QueueRefusal | None:
    error = RpcError(code=exc.code, message=exc.message[:500], data=exc.data)
    return QueueRefusal.from_error(error)


class QueueClient:
    """Calls the central queue service for this kiosk (raises `QueueRefused`, `RpcCallError`, `RpcTimeout`)."""

    def __init__(self, rpc: RpcClient, timeout_s: float = 6.0, merge_timeout_s: float = 15.0) -> None:
        self.rpc = rpc
        self.timeout_s = timeout_s
        self.merge_timeout_s = merge_timeout_s

    def _call(self, method: QueueMethod, params: dict[str, object], timeout_s: float) -> dict[str, object]:
        try:
            return self.rpc.call(method.value, params, timeout_s)
        except RpcCallError as exc:
            refusal = _refusal(exc)
            if refusal is not None:
                raise QueueRefused(refusal) from exc
            raise

    def take(self, params: TakeParams) -> TicketView:
        """The next number of `params.category` at this kiosk's branch."""
        result = self._call(QueueMethod.TAKE, params.model_dump(mode="json"), self.timeout_s)
        return TicketView.model_validate(result)

    def block(self) -> BlockView:
        """This kiosk's offline block (the same answer every time for a kiosk and branch)."""
        result = self._call(QueueMethod.BLOCK, BlockParams().model_dump(mode="json"), self.timeout_s)
        return BlockView.model_validate(result)

    def merge(self, tickets: list[OfflineTicketIn]) -> MergeView:
        """Hand over tickets issued offline, oldest first; resubmitting a ticket is harmless."""
        params = MergeParams(tickets=tickets).model_dump(mode="json")
        return MergeView.model_validate(self._call(QueueMethod.MERGE, params, self.merge_timeout_s))
