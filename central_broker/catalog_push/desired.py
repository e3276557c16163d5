"""Each kiosk's whole `down/desired` document: the catalog and the app release it should run.

One retained document per kiosk names both (contract §5, extended for app releases), so whatever
publishes one of them — a catalog push, a catalog or release rollout stage, the re-signing pass —
composes the document from what the store says the kiosk was last told, with its own change laid
over it. Each document names its kiosk (`device`) and is signed for it alone: a kiosk refuses a
document addressed to another one, so a copy of one kiosk's document is no use on another's topic.

A catalog's body url (MQTT topic, or HTTPS for a large body) is the one signed when it was first
published; `published_urls` reads it back from the retained documents the centre keeps.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from central_broker.catalog_push.documents import MQTT_BODY_BYTES, body_topic
from central_broker.store import FleetStore
from madoguchi.contracts.base import ContractError
from madoguchi.contracts.signed import CatalogRef, DesiredDocument, Envelope, PayloadType, ReleaseRef, sign
from madoguchi.contracts.topics import Down, down

__all__ = ["catalog_refs", "catalog_url", "desired_messages", "published_urls"]

_logger = logging.getLogger(__name__)

_DESIRED_SUFFIX = f"/down/{Down.DESIRED.value}"


def published_urls(store: FleetStore) -> dict[str, str]:
    """Catalog sha256 → the body url last signed for it, from the retained `down/desired` documents kept."""
    urls: dict[str, str] = {}
    for topic, payload in store.retained_documents():
        if not topic.endswith(_DESIRED_SUFFIX):
            continue
        try:
            ref = DesiredDocument.from_bytes(Envelope.from_bytes(payload).body()).catalog
        except ContractError:
            continue
        if ref is not None:
            urls[ref.sha256] = ref.url
    return urls


def catalog_url(urls: dict[str, str], sha256: str, length: int) -> str | None:
    """The body url of a published catalog: the one signed before, else its MQTT topic when it fits.

    None for a body over `MQTT_BODY_BYTES` whose HTTPS url the centre no longer has (publish it again).
    """
    url = urls.get(sha256)
    if url is None and length <= MQTT_BODY_BYTES:
        url = f"mqtt:{body_topic(sha256)}"
    return url


def catalog_refs(store: FleetStore) -> dict[str, CatalogRef]:
    """Kiosk → the catalog its `down/desired` names (versions whose hash, length and url the store knows)."""
    known = {r.version: (r.sha256, r.length) for r in store.signed_documents() if r.is_catalog}
    urls = published_urls(store)
    refs: dict[str, CatalogRef] = {}
    for version, devices in store.desired_devices().items():
        sha256, length = known.get(version, (None, None))
        if sha256 is None or length is None:
            continue
        url = catalog_url(urls, sha256, length)
        if url is None:
            _logger.warning("catalog version %d: its download url is unknown; publish it again", version)
            continue
        ref = CatalogRef(version=version, sha256=sha256, length=length, url=url)
        refs.update(dict.fromkeys(devices, ref))
    return refs


def desired_messages(
    store: FleetStore | None,
    device_ids: Iterable[str],
    key: Ed25519PrivateKey,
    expires_ms: int,
    *,
    catalog: CatalogRef | None = None,
    release: ReleaseRef | None = None,
) -> dict[str, bytes]:
    """Signed `down/desired` by topic for each kiosk: `catalog` / `release` when given, else what it was last told.

    Every document names its kiosk (`device`), so each is signed on its own (an Ed25519 signature
    takes some 50 µs). A kiosk that ends up with neither gets no document (there is nothing to tell it).
    """
    catalogs = catalog_refs(store) if store is not None and catalog is None else {}
    releases = {d: r for d, (r, _at) in store.release_desired().items()} if store is not None and release is None else {}  # fmt: skip
    messages: dict[str, bytes] = {}
    for device_id in device_ids:
        ref, app = catalog or catalogs.get(device_id), release or releases.get(device_id)
        if ref is None and app is None:
            continue
        document = DesiredDocument(device=device_id, catalog=ref, release=app, expires=expires_ms)
        envelope = sign(PayloadType.DESIRED, document.to_bytes(), key)
        messages[down(device_id, Down.DESIRED)] = envelope.to_bytes()
    return messages
