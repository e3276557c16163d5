"""The kiosk side of `prefill.attach` (madoguchi.contracts.prefill) over the shared `RpcClient`.

Never through the statistics outbox, never logged: the request body holds the basic four.
"""

from __future__ import annotations

from kiosk_app.rpc_client import RpcClient
from madoguchi.contracts.prefill import AttachParams, AttachView, PrefillMethod

__all__ = ["PrefillClient"]


class PrefillClient:
    """Calls the central prefill service for this kiosk (raises `RpcCallError`, `RpcTimeout`)."""

    def __init__(self, rpc: RpcClient, timeout_s: float = 10.0) -> None:
        self.rpc = rpc
        self.timeout_s = timeout_s

    def attach(self, params: AttachParams) -> AttachView:
        """Attach the basic four to the visit behind `params.status_token`."""
        result = self.rpc.call(PrefillMethod.ATTACH.value, params.model_dump(mode="json"), self.timeout_s)
        return AttachView.model_validate(result)
