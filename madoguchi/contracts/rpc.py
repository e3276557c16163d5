"""MQTT 5 request/response (contract §2 RPC): certificate issuance, payment lookup, queue numbers."""

from __future__ import annotations

import enum
import uuid
from typing import Any, Self

from pydantic import Field, field_validator, model_validator

from madoguchi.contracts.base import Message

__all__ = ["RpcError", "RpcErrorCode", "RpcRequest", "RpcResponse"]


class RpcErrorCode(enum.StrEnum):
    """Error codes every RPC method uses."""

    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    NOT_FOUND = "NOT_FOUND"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    CONFLICT = "CONFLICT"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"
    # Project addition (queue numbers, docs/queue.md): the service understood the request and said no for
    # a reason the resident is shown; `RpcError.data` says which (`madoguchi.contracts.queue.QueueRefusal`).
    REFUSED = "refused"


class RpcRequest(Message):
    """A request on `up/rpc`; the same `req_id` is reused on every retry until `deadline`."""

    req_id: str
    method: str = Field(pattern=r"^[a-z_]+(\.[a-z_]+)+$", description="e.g. certificate.issue")
    params: dict[str, Any] = Field(default_factory=dict)
    deadline: int = Field(ge=0, description="epoch ms after which no work is done")

    @field_validator("req_id")
    @classmethod
    def _uuid4(cls, value: str) -> str:
        if uuid.UUID(value).version != 4:
            raise ValueError("req_id must be a UUIDv4")
        return value

    @classmethod
    def new(cls, method: str, params: dict[str, Any], deadline: int, req_id: str | None = None) -> RpcRequest:
        """A request with a fresh `req_id`, or the given one (a retry of the same request, later)."""
        return cls(req_id=req_id or str(uuid.uuid4()), method=method, params=params, deadline=deadline)


class RpcError(Message):
    """Why a request failed."""

    code: RpcErrorCode
    message: str = Field(max_length=500)
    data: dict[str, Any] | None = Field(
        default=None,
        description="method-specific detail, e.g. QueueRefusal for code refused (project addition)",
    )


class RpcResponse(Message):
    """A response on `down/rpc`: `ok` with `result`, or not with `error`."""

    req_id: str
    ok: bool
    result: dict[str, Any] | None = None
    error: RpcError | None = None

    @model_validator(mode="after")
    def _result_or_error(self) -> Self:
        if self.ok and self.error is not None:
            raise ValueError("an ok response has no error")
        if not self.ok and self.error is None:
            raise ValueError("a failed response carries error {code, message}")
        return self
