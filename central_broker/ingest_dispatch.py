"""What the ingest does with each `up/...` sub-topic: validate the payload, write the store.

`dispatch()` returns a `Handled` naming what happened and, for statistics, the `down/ack` to
publish once the store has committed (contract §4.3). Payloads that break the contract are
logged with the field paths only (never values: they are device data) and dropped. An empty
payload on `up/alert/{id}` is the retained clear of that alert.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from pydantic import ValidationError

from central_broker.store import FleetStore
from madoguchi.contracts.base import Message
from madoguchi.contracts.messages import (
    AckMessage,
    AlertMessage,
    DiagnosticsPart,
    DownAck,
    EventMessage,
    HealthMessage,
    ReportedMessage,
    StateMessage,
    StatsBatch,
)
from madoguchi.contracts.staff_call import StaffCallMessage
from madoguchi.contracts.topics import ParsedTopic, Up

__all__ = ["HANDLED", "Handled", "describe_problem", "dispatch", "parse_payload"]

_logger = logging.getLogger(__name__)

HANDLED: dict[Up, type[Message]] = {
    Up.STATE: StateMessage,
    Up.HEALTH: HealthMessage,
    Up.STATS: StatsBatch,
    Up.EVENT: EventMessage,
    Up.ALERT: AlertMessage,
    Up.REPORTED: ReportedMessage,
    Up.ACK: AckMessage,
    Up.DIAG: DiagnosticsPart,
    Up.STAFF_CALL: StaffCallMessage,
}


@dataclass(frozen=True)
class Handled:
    """Result of one message: a short outcome (`online`, `stats`, `raised` …) and an optional ack."""

    outcome: str
    down_ack: DownAck | None = None


def describe_problem(exc: ValidationError) -> str:
    """Field paths and reasons of a validation error, without the values (they are device data)."""
    parts = [f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}" for err in exc.errors()]
    return "; ".join(parts)


def parse_payload(parsed: ParsedTopic, model: type[Message], payload: bytes) -> Message | None:
    """Validate a payload; None (logged without values) when it breaks the contract."""
    try:
        return model.model_validate(json.loads(payload))
    except (ValueError, RecursionError) as exc:  # ValidationError and JSON errors are ValueErrors
        reason = describe_problem(exc) if isinstance(exc, ValidationError) else "payload is not UTF-8 JSON"
        _logger.warning("ingest: dropped bad %s from %s: %s", parsed.name.value, parsed.device_id, reason)
        return None


def dispatch(store: FleetStore, parsed: ParsedTopic, payload: bytes) -> Handled | None:
    """Write one device message to the store.

    Returns:
        What happened, or None when the message was dropped (bad, or not a device → centre topic).

    Raises:
        Exception: only store failures (the message must then be delivered again).
    """
    model = HANDLED.get(parsed.name) if isinstance(parsed.name, Up) else None
    if model is None:
        _logger.debug("ingest: %s/%s is not for the ingest; dropped", parsed.device_id, parsed.name.value)
        return None
    dev = parsed.device_id
    if not payload:
        if parsed.name is Up.ALERT and parsed.alert_id is not None:
            return Handled(store.record_alert(dev, parsed.alert_id, None))
        _logger.debug("ingest: empty payload on %s/%s; dropped", dev, parsed.name.value)
        return None
    message = parse_payload(parsed, model, payload)
    if message is None:
        return None
    if isinstance(message, StateMessage):
        return Handled(store.record_state(dev, message).value)
    if isinstance(message, HealthMessage):
        return Handled(store.record_health(dev, message).value)
    if isinstance(message, StatsBatch):
        outcome = store.record_stats(dev, message)
        return Handled("stats", DownAck(through_seq=outcome.through_seq))
    if isinstance(message, EventMessage):
        store.record_event(dev, message)
        return Handled("event")
    if isinstance(message, AlertMessage):
        assert parsed.alert_id is not None  # parse_topic guarantees it for alert topics
        return Handled(store.record_alert(dev, parsed.alert_id, message))
    if isinstance(message, ReportedMessage):
        store.record_reported(dev, message)
        return Handled("reported")
    if isinstance(message, StaffCallMessage):
        return Handled(store.record_staff_call(dev, message))
    if isinstance(message, DiagnosticsPart):
        store.record_diag_part(dev, message)
        return Handled("diag")
    assert isinstance(message, AckMessage)
    store.record_ack(dev, message)
    return Handled("ack")
