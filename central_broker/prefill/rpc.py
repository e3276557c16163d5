"""The `prefill.attach` RPC method (madoguchi.contracts.prefill), served by the central `RpcServer`.

The visit is found by its status token (only the printed ticket and the issuing kiosk know it) and must be
active and issued by the calling kiosk; anything else is `NOT_FOUND`, the same answer for every case, so a
token cannot be probed. Logs name the device and the visit number, never the data.
"""

from __future__ import annotations

import logging

from central_broker.prefill.store import PrefillStore
from central_broker.queue import QueueService, VisitState
from central_broker.rpc_server import RpcCall, RpcFailure, RpcHandler
from madoguchi.contracts.catalog_base import CatalogLookupError
from madoguchi.contracts.prefill import AttachParams, AttachView, PrefillMethod
from madoguchi.contracts.rpc import RpcErrorCode

__all__ = ["PrefillRpc"]

_logger = logging.getLogger(__name__)


class PrefillRpc:
    """`prefill.attach` over the queue (to find the visit) and the prefill store."""

    def __init__(self, queue: QueueService, store: PrefillStore) -> None:
        self.queue = queue
        self.store = store

    def handlers(self) -> dict[str, RpcHandler]:
        """Method name → handler, for `RpcServer` / `CentralServices(rpc_handlers=...)`."""
        return {PrefillMethod.ATTACH.value: self.attach}

    def attach(self, call: RpcCall) -> AttachView:
        """Keep the basic four for the calling kiosk's active visit behind `status_token`."""
        params = AttachParams.model_validate(call.params)
        status = self.queue.status_by_token(params.status_token)
        visit = None if status is None else status.visit
        if visit is None or visit.state is not VisitState.ACTIVE or visit.device_id != call.device_id:
            _logger.info(
                "%s prefill.attach refused: no active visit of this kiosk for the token", call.device_id
            )
            raise RpcFailure(
                RpcErrorCode.NOT_FOUND,
                "no active visit of this kiosk has this ticket; the form data was not kept",
            )
        unknown = [p for p in params.procedures if not self._has_form(p)]
        if unknown:
            raise RpcFailure(
                RpcErrorCode.INVALID_ARGUMENT,
                f"procedures without a form in the catalog: {', '.join(unknown)}",
            )
        expires = self.store.attach(visit, params.procedures, params.fields)
        _logger.info("%s prefill.attach: kept for visit %s", call.device_id, visit.number)
        return AttachView(number=visit.number, expires_at=expires)

    def _has_form(self, procedure_id: str) -> bool:
        try:
            procedure = self.queue.catalog.procedure(procedure_id)
        except CatalogLookupError:
            return False
        return procedure.form is not None
