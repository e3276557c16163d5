"""Operator kill switch for issuance (R-11): read the retained `fleet/control` document, change the
issuance part (fleet-wide, one municipality or one device), sign it with the control key and publish
it retained with the next version. Payment and ticket parts are kept as they are.
"""

from __future__ import annotations

import logging
import threading
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from madoguchi.config.broker import BrokerConfig
from madoguchi.contracts.base import ContractError
from madoguchi.contracts.signed import ControlDocument, Envelope, FunctionControl, PayloadType, sign
from madoguchi.contracts.topics import FLEET_CONTROL
from madoguchi.errors import UserError
from madoguchi.mqtt_client import make_client

__all__ = ["fetch_control", "publish_control", "switched"]

_logger = logging.getLogger(__name__)


def switched(
    current: ControlDocument | None,
    suspend: bool,
    *,
    municipality: str | None = None,
    device: str | None = None,
    message: str | None = None,
    now: float | None = None,
) -> ControlDocument:
    """The next control document: issuance suspended or resumed for the fleet, a municipality or a device."""
    base = current or ControlDocument(version=1, ts=0)
    part = base.issuance
    if municipality is not None:
        cities = set(part.suspended_municipalities)
        cities = cities | {municipality} if suspend else cities - {municipality}
        part = part.model_copy(update={"suspended_municipalities": sorted(cities)})
    elif device is not None:
        devices = set(part.suspended_devices)
        devices = devices | {device} if suspend else devices - {device}
        part = part.model_copy(update={"suspended_devices": sorted(devices)})
    else:
        part = part.model_copy(update={"suspended_all": suspend})
    if message is not None:
        part = part.model_copy(update={"message": {"ja": message}})
    part = FunctionControl.model_validate(part.model_dump())
    version = base.version + 1 if current else 1
    ts = int((now if now is not None else time.time()) * 1000)
    return base.model_copy(update={"version": version, "ts": ts, "issuance": part})


def _connect(broker: BrokerConfig, client_id: str):  # type: ignore[no-untyped-def]
    client = make_client(client_id, broker)
    try:
        client.connect(broker.host, broker.port, keepalive=broker.keepalive)
    except OSError as exc:
        raise UserError(
            f"cannot reach the broker {broker.host}:{broker.port}: {exc}", "check --broker"
        ) from exc
    client.loop_start()
    return client


def fetch_control(broker: BrokerConfig, wait_s: float = 2.0) -> ControlDocument | None:
    """The retained control document now in force (its body; the signature is the kiosks' business)."""
    client = _connect(broker, f"svc-catalog-read-{int(time.time() * 1000) % 100000}")
    got: list[bytes] = []
    arrived = threading.Event()

    def on_message(_c: object, _u: object, msg: object) -> None:
        got.append(getattr(msg, "payload", b""))
        arrived.set()

    client.on_message = on_message
    client.subscribe(FLEET_CONTROL, qos=1)
    arrived.wait(wait_s)
    client.disconnect()
    client.loop_stop()
    if not got or not got[0]:
        return None
    try:
        return ControlDocument.from_bytes(Envelope.from_bytes(got[0]).body())
    except ContractError as exc:
        raise UserError(f"the retained control document is unreadable: {exc}", "publish a new one") from exc


def publish_control(broker: BrokerConfig, document: ControlDocument, key: Ed25519PrivateKey) -> None:
    """Sign and publish `document` retained on `fleet/control` (QoS 1, waits for the PUBACK)."""
    envelope = sign(PayloadType.CONTROL, document.to_bytes(), key)
    client = _connect(broker, f"svc-catalog-control-{int(time.time() * 1000) % 100000}")
    try:
        client.publish(FLEET_CONTROL, envelope.to_bytes(), qos=1, retain=True).wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()
    _logger.info("control version %d published", document.version)
