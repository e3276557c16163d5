"""Publish signed fleet documents as the `svc-catalog` service and wait for every PUBACK.

`publish_release` sends, all QoS 1 retained: the root-signed `fleet/keys`, the catalog body on its
hash topic (a body too large for MQTT is stored for the HTTPS download instead, `CatalogBodies`),
`fleet/catalog/manifest`, then `down/desired` for each target kiosk; it records the desired version
per kiosk in the central store for `catalog status`.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from central_broker.catalog_push.bodies import CatalogBodies
from central_broker.catalog_push.desired import desired_messages
from central_broker.catalog_push.documents import CatalogRelease, body_topic
from central_broker.catalog_push.signing import SigningKeys
from central_broker.store import FleetStore
from central_broker.store.signed_docs import KEYS_DOCUMENT, SignedRecord, catalog_document
from madoguchi.config.broker import BrokerConfig
from madoguchi.contracts.signed import DesiredDocument, Envelope, KeysDocument, ManifestDocument
from madoguchi.contracts.topics import FLEET_CATALOG_MANIFEST, FLEET_KEYS
from madoguchi.errors import UserError
from madoguchi.mqtt_client import make_client, reason_text

__all__ = [
    "Outgoing",
    "PublishResult",
    "fleet_keys_payload",
    "publish_documents",
    "publish_release",
    "record_signing",
]

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    """One message to publish."""

    topic: str
    payload: bytes
    retain: bool = True
    expiry_s: int | None = None  # MQTT 5 message expiry (commands); never on retained documents


@dataclass(frozen=True)
class PublishResult:
    """What a catalog publish sent."""

    version: int
    sha256: str
    length: int
    devices: tuple[str, ...]
    messages: int


def publish_documents(
    broker: BrokerConfig,
    messages: Sequence[Outgoing],
    *,
    store: FleetStore | None = None,
    timeout: float = 20.0,
) -> None:
    """Connect as a service, publish every message with QoS 1, wait for each PUBACK, disconnect.

    With `store`, the retained messages are then kept in the centre's durable copy
    (`FleetStore.record_retained`), which the centre publishes again after a broker restart.

    Raises:
        UserError: the broker refused or did not answer in time.
    """
    client = make_client(f"svc-catalog-{uuid.uuid4().hex[:8]}", broker)
    connected = threading.Event()
    refused: list[str] = []

    def on_connect(_c: object, _u: object, _f: object, reason: object, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            refused.append(reason_text(reason))
        connected.set()

    client.on_connect = on_connect
    try:
        client.connect(broker.host, broker.port, keepalive=broker.keepalive)
    except OSError as exc:
        raise UserError(
            f"cannot reach the broker {broker.url}: {exc}", "check [broker] url and that it runs"
        ) from exc
    client.loop_start()
    try:
        if not connected.wait(timeout) or refused:
            raise UserError(
                f"the broker {broker.url} did not accept the catalog service: {', '.join(refused) or 'no answer'}",
                "check the svc-catalog certificate in [broker]",
            )
        infos = [
            client.publish(m.topic, m.payload, qos=1, retain=m.retain, properties=_expiry(m.expiry_s))
            for m in messages
        ]
        for message, info in zip(messages, infos, strict=True):
            info.wait_for_publish(timeout)
            if not info.is_published():
                raise UserError(
                    f"no PUBACK for {message.topic} within {timeout:.0f} s", "check the broker log"
                )
    finally:
        client.disconnect()
        client.loop_stop()
    if store is not None:
        store.record_retained((m.topic, m.payload) for m in messages if m.retain)


def _expiry(seconds: int | None) -> Properties | None:
    if seconds is None:
        return None
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    props.MessageExpiryInterval = max(1, seconds)
    return props


def record_signing(store: FleetStore, release: CatalogRelease | None, keys_envelope: Envelope | None) -> None:
    """Remember when the release's documents and the keys document were signed (for re-signing)."""
    if release is not None:
        manifest = ManifestDocument.from_bytes(release.manifest.body())
        store.record_signed(
            SignedRecord(
                catalog_document(release.version),
                release.version,
                release.sha256,
                len(release.body),
                int(release.signed_at * 1000),
                manifest.expires,
            )
        )
    if keys_envelope is not None:
        document = KeysDocument.from_bytes(keys_envelope.body())
        store.record_signed(
            SignedRecord(KEYS_DOCUMENT, document.version, None, None, store.now_ms(), document.expires)
        )


def fleet_keys_payload(keys: SigningKeys, store: FleetStore | None) -> tuple[bytes, Envelope | None]:
    """The `fleet/keys` document to publish with a catalog, and the envelope when it was signed now.

    The root key is needed only when the keys document must change: none was published yet, the
    published one does not list the current catalog key for every role, or it is within
    `KEYS_RENEW_S` of its expiry. Otherwise the published document goes out again as it is, so
    publishing catalogs needs only the online catalog key and the root key can stay offline.

    Raises:
        UserError: the keys document must be signed and the root key is not at hand.
    """
    published = store.retained_document(FLEET_KEYS) if store is not None else None
    reason = keys.keys_resign_reason(published)
    if reason is None and published is not None:
        return published, None
    keys.require_root_key(reason or "fleet/keys must be signed")
    previous = KeysDocument.from_bytes(Envelope.from_bytes(published).body()).version if published else 0
    envelope = keys.keys_document(version=max(int(time.time()), previous + 1))
    return envelope.to_bytes(), envelope


def publish_release(
    broker: BrokerConfig,
    keys: SigningKeys,
    release: CatalogRelease,
    device_ids: Sequence[str],
    store: FleetStore | None = None,
    bodies: CatalogBodies | None = None,
) -> PublishResult:
    """Publish keys, body, manifest and each device's desired document; record them in `store`.

    A body kiosks download over HTTPS (`release.over_mqtt` false) is stored in `bodies` (the folder
    the enrolment endpoint serves) before any document naming it goes out.

    Raises:
        UserError: no kiosk to send it to, the broker refused, or an HTTPS body and no `bodies` folder.
    """
    if not device_ids:
        raise UserError(
            f"no kiosk to send catalog version {release.version} to",
            "name them with --devices, or let the kiosks connect once so the store knows them",
        )
    keys_payload, keys_envelope = fleet_keys_payload(keys, store)
    messages = [Outgoing(FLEET_KEYS, keys_payload)]
    if release.over_mqtt:
        messages.append(Outgoing(body_topic(release.sha256), release.body))
    elif bodies is None:
        raise UserError(
            f"catalog version {release.version} is downloaded over HTTPS and there is no folder to serve it from",
            "publish it with the central configuration ([central] data_dir), which the enrolment endpoint serves",
        )
    else:
        bodies.add(release.body)
    messages.append(Outgoing(FLEET_CATALOG_MANIFEST, release.manifest.to_bytes()))
    catalog = DesiredDocument.from_bytes(release.desired.body()).catalog
    desired = desired_messages(
        store, device_ids, keys.catalog_key(), DesiredDocument.from_bytes(release.desired.body()).expires,
        catalog=catalog,
    )  # fmt: skip
    messages += [Outgoing(topic, payload) for topic, payload in desired.items()]
    publish_documents(broker, messages, store=store)
    if store is not None:
        store.record_desired(list(device_ids), release.version, release.sha256)
        record_signing(store, release, keys_envelope)
    _logger.info("catalog version %d published to %d kiosks", release.version, len(device_ids))
    return PublishResult(release.version, release.sha256, len(release.body), tuple(device_ids), len(messages))
