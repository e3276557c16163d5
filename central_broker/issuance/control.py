"""The operator kill switch (R-11): the signed, retained `fleet/control` document, kept by the centre.

The central store is the authority (`FleetStore.control_history`), never the broker: a broker
restart loses retained messages, and anyone who can publish there could plant a document. So

- the next document is built from the newest version in the store, with a version above every
  version stored *and* every version a kiosk reported applying (`up/reported.control_ver`), so kiosks
  holding a high version after a lost central database still apply it;
- it is recorded in the store before it is published (a version is never signed twice);
- whether it is in force is confirmed by what the kiosks report, not by the PUBACK
  (`confirmation`, `wait_for_confirmation`);
- a document read back from the broker is used only after its signature verified with the
  centre's own key (`read_retained_control`), and only to adopt a version the store never had
  (a centre upgraded from one that kept no history).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from central_broker.catalog_push.publisher import Outgoing, publish_documents
from central_broker.store import FleetStore
from central_broker.store.models import DeviceStatus
from madoguchi.config.broker import BrokerConfig
from madoguchi.contracts.base import ContractError
from madoguchi.contracts.signed import (
    ControlDocument,
    Envelope,
    FunctionControl,
    PayloadType,
    key_id,
    sign,
    verify,
)
from madoguchi.contracts.topics import FLEET_CONTROL
from madoguchi.errors import UserError
from madoguchi.mqtt_client import make_client

__all__ = [
    "Confirmation",
    "RetainedControl",
    "confirmation",
    "current_control",
    "publish_switch",
    "read_retained_control",
    "switched",
    "wait_for_confirmation",
]

_logger = logging.getLogger(__name__)


def switched(
    current: ControlDocument | None,
    suspend: bool,
    *,
    version: int,
    municipality: str | None = None,
    device: str | None = None,
    message: str | None = None,
    now: float | None = None,
) -> ControlDocument:
    """The next control document: issuance suspended or resumed for the fleet, a municipality or a device.

    Payment and ticket parts are kept as they are in `current`.
    """
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
    ts = int((now if now is not None else time.time()) * 1000)
    return base.model_copy(update={"version": version, "ts": ts, "issuance": part})


def current_control(store: FleetStore) -> ControlDocument | None:
    """The kill-switch document in force according to the centre (None before the first)."""
    record = store.control_current()
    return None if record is None else ControlDocument.from_bytes(record.body)


@dataclass(frozen=True)
class RetainedControl:
    """What the broker holds on `fleet/control`, checked against the centre's key."""

    state: Literal["absent", "verified", "unverified"]
    document: ControlDocument | None = None
    detail: str = ""


def read_retained_control(
    broker: BrokerConfig, key: Ed25519PublicKey, wait_s: float = 2.0
) -> RetainedControl:
    """Read the retained `fleet/control` and verify it with the centre's control key.

    An unverified document (forged, or signed by a key the centre no longer has) is reported, never used.
    """
    client = make_client(f"svc-catalog-read-{int(time.time() * 1000) % 100000}", broker)
    got: list[bytes] = []
    arrived = threading.Event()

    def on_message(_c: object, _u: object, msg: object) -> None:
        got.append(getattr(msg, "payload", b""))
        arrived.set()

    def on_connect(*_args: object) -> None:
        client.subscribe(FLEET_CONTROL, qos=1)

    client.on_message = on_message
    client.on_connect = on_connect
    try:
        client.connect(broker.host, broker.port, keepalive=broker.keepalive)
    except OSError as exc:
        raise UserError(
            f"cannot reach the broker {broker.host}:{broker.port}: {exc}", "check [broker]"
        ) from exc
    client.loop_start()
    try:
        arrived.wait(wait_s)
    finally:
        client.disconnect()
        client.loop_stop()
    if not got or not got[0]:
        return RetainedControl("absent")
    try:
        body = verify(Envelope.from_bytes(got[0]), PayloadType.CONTROL, {key_id(key): key})
        return RetainedControl("verified", ControlDocument.from_bytes(body))
    except ContractError as exc:
        return RetainedControl("unverified", detail=str(exc)[:300])


def _adopt_verified(store: FleetStore, retained: RetainedControl | None) -> None:
    """Take a verified broker document into an empty history (centres that kept none before)."""
    if retained is None or retained.document is None or store.control_current() is not None:
        return
    document = retained.document
    store.record_control(document.version, document.to_bytes(), b"", "adopted from the broker (verified)")
    _logger.warning(
        "control version %d adopted from the broker's verified retained document", document.version
    )


def publish_switch(
    store: FleetStore,
    broker: BrokerConfig,
    key: Ed25519PrivateKey,
    suspend: bool,
    *,
    actor: str,
    municipality: str | None = None,
    device: str | None = None,
    message: str | None = None,
    retained: RetainedControl | None = None,
) -> ControlDocument:
    """Build the next control document from the store, record it, sign it and publish it retained.

    `retained` (from `read_retained_control`) is only used when the store has no history and it
    verified. Raises `UserError` when the broker does not take it (the version stays used).
    """
    _adopt_verified(store, retained)
    stored = store.control_current()
    version = max(stored.version if stored else 0, store.highest_control_reported()) + 1
    document = switched(
        current_control(store),
        suspend,
        version=version,
        municipality=municipality,
        device=device,
        message=message,
    )
    envelope = sign(PayloadType.CONTROL, document.to_bytes(), key).to_bytes()
    store.record_control(document.version, document.to_bytes(), envelope, actor)
    publish_documents(broker, [Outgoing(FLEET_CONTROL, envelope)], store=store)
    _logger.info("control version %d published by %s", document.version, actor)
    return document


@dataclass(frozen=True)
class Confirmation:
    """Which kiosks applied a control version, by what they reported."""

    version: int
    applied: tuple[str, ...] = ()
    waiting: tuple[str, ...] = ()  # online, not yet reported the version
    offline: tuple[str, ...] = field(default_factory=tuple)  # will apply it when they reconnect

    @property
    def complete(self) -> bool:
        """Every online kiosk reported the version."""
        return not self.waiting

    def to_dict(self) -> dict[str, object]:
        """For `--json`."""
        return {
            "version": self.version,
            "confirmed": self.complete,
            "applied": list(self.applied),
            "waiting": list(self.waiting),
            "offline": list(self.offline),
        }

    def summary(self) -> str:
        """One line for a person."""
        online = len(self.applied) + len(self.waiting)
        parts = [f"applied by {len(self.applied)} of {online} online kiosk(s)"]
        if self.waiting:
            parts.append(f"NOT confirmed by {', '.join(self.waiting)}")
        if self.offline:
            parts.append(f"{len(self.offline)} offline kiosk(s) apply it when they reconnect")
        return "; ".join(parts)


def confirmation(store: FleetStore, version: int) -> Confirmation:
    """Which kiosks reported `version` (or a later one) of the control document."""
    reported = store.control_versions_reported()
    applied: list[str] = []
    waiting: list[str] = []
    offline: list[str] = []
    for device in store.devices():
        if (reported.get(device.device_id) or 0) >= version:
            applied.append(device.device_id)
        elif device.status is DeviceStatus.ONLINE:
            waiting.append(device.device_id)
        else:
            offline.append(device.device_id)
    return Confirmation(version, tuple(applied), tuple(waiting), tuple(offline))


def wait_for_confirmation(
    store: FleetStore, version: int, timeout_s: float, *, poll_s: float = 0.25
) -> Confirmation:
    """Poll `confirmation` until every online kiosk applied `version` or `timeout_s` passed."""
    deadline = time.monotonic() + timeout_s
    while True:
        state = confirmation(store, version)
        if state.complete or time.monotonic() >= deadline:
            return state
        time.sleep(poll_s)
