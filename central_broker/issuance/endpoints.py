"""The issuance service as RPC methods (`certificate.*`) and the kill-switch subscription.

Parameters are validated with the contract models; service errors become RPC errors with their
code. The retained, signed `fleet/control` document is verified with the fleet's control keys and
applied at once (R-11: within seconds); a document that fails verification is ignored and logged.
The retained document arrives right after the SUBACK, on the MQTT network thread, so it is applied
before any request routed to this worker later is even queued.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel

from central_broker.issuance.errors import IssuanceError
from central_broker.issuance.service import IssuanceService
from central_broker.rpc_server import RpcCall, RpcFailure, RpcHandler, answered_afresh
from madoguchi.contracts.base import ContractError
from madoguchi.contracts.issuance import (
    AuthenticateParams,
    ConfirmParams,
    IncidentParams,
    IssueParams,
    Method,
    PrepareParams,
    SessionParams,
)
from madoguchi.contracts.signed import ControlDocument, Envelope, PayloadType, verify
from madoguchi.contracts.topics import FLEET_CONTROL

__all__ = ["control_subscriber", "issuance_handlers"]

_logger = logging.getLogger(__name__)


def _language(call: RpcCall) -> str:
    value = call.params.get("language", "ja")
    return value if isinstance(value, str) and len(value) <= 16 else "ja"


def _guard(func: Callable[[RpcCall], BaseModel]) -> RpcHandler:
    def run(call: RpcCall) -> BaseModel:
        try:
            return func(call)
        except IssuanceError as exc:
            raise RpcFailure(exc.code, exc.message) from exc

    return run


def issuance_handlers(service: IssuanceService) -> dict[str, RpcHandler]:
    """Method name → handler for the issuance steps (begin … confirm, prepare) and incident reports."""

    def begin(call: RpcCall) -> BaseModel:
        app_version = call.params.get("app_ver")
        return service.begin(call.device_id, app_version if isinstance(app_version, str) else None)

    def authenticate(call: RpcCall) -> BaseModel:
        return service.authenticate(
            call.device_id, AuthenticateParams.model_validate(call.params), _language(call)
        )

    def options(call: RpcCall) -> BaseModel:
        params = SessionParams.model_validate(call.params)
        return service.options(call.device_id, params.session_id, _language(call))

    def issue(call: RpcCall) -> BaseModel:
        return service.issue(call.device_id, IssueParams.model_validate(call.params), call.deadline_ms)

    def confirm(call: RpcCall) -> BaseModel:
        return service.confirm(call.device_id, ConfirmParams.model_validate(call.params))

    def prepare(call: RpcCall) -> BaseModel:
        return service.prepare(call.device_id, PrepareParams.model_validate(call.params))

    def incident(call: RpcCall) -> BaseModel:
        return service.report_incident(call.device_id, IncidentParams.model_validate(call.params))

    table: dict[Method, Callable[[RpcCall], BaseModel]] = {
        Method.BEGIN: begin,
        Method.AUTHENTICATE: authenticate,
        Method.OPTIONS: options,
        Method.ISSUE: issue,
        Method.CONFIRM: confirm,
        Method.PREPARE: prepare,
        Method.INCIDENT: incident,
    }
    handlers = {method.value: _guard(func) for method, func in table.items()}
    # A retry of issue runs again (the service returns the same document while it is issued or failed,
    # and refuses once it is printed or void), so a replay never re-sends a printed document.
    handlers[Method.ISSUE.value] = answered_afresh(handlers[Method.ISSUE.value])
    return handlers


def control_subscriber(
    service: IssuanceService, keys: Mapping[str, Ed25519PublicKey]
) -> dict[str, Callable[[mqtt.MQTTMessage], Any]]:
    """`{fleet/control: callback}` for `RpcServer(extra=...)`: verify the envelope, then apply it."""

    def on_control(msg: mqtt.MQTTMessage) -> None:
        if not msg.payload:
            return
        try:
            body = verify(Envelope.from_bytes(bytes(msg.payload)), PayloadType.CONTROL, dict(keys))
            document = ControlDocument.from_bytes(body)
        except ContractError as exc:
            _logger.error("fleet/control ignored: %s", exc)
            return
        service.apply_control(document)

    return {FLEET_CONTROL: on_control}
