"""The one error the issuance service raises: an RPC error code and a message safe to send to the kiosk."""

from __future__ import annotations

from madoguchi.contracts.rpc import RpcErrorCode

__all__ = ["IssuanceError"]


class IssuanceError(Exception):
    """A request the service will not carry out; `message` never contains personal data."""

    def __init__(self, code: RpcErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
