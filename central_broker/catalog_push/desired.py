"""Each kiosk's whole `down/desired` document: the catalog and the app release it should run.

One retained document per kiosk names both (contract §5, extended for app releases), so whatever
publishes one of them — a catalog push, a catalog or release rollout stage, the re-signing pass —
composes the document from what the store says the kiosk was last told, with its own change laid
over it. Each document names its kiosk (`device`) and is signed for it alone: a kiosk refuses a
document addressed to another one, so a copy of one kiosk's document is no use on another's topic.
"""

from __future__ import annotations

from collections.abc import Iterable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from central_broker.catalog_push.documents import body_topic
from central_broker.store import FleetStore
from madoguchi.contracts.signed import CatalogRef, DesiredDocument, PayloadType, ReleaseRef, sign
from madoguchi.contracts.topics import Down, down

__all__ = ["catalog_refs", "desired_messages"]


def catalog_refs(store: FleetStore) -> dict[str, CatalogRef]:
    """Kiosk → the catalog its `down/desired` names (versions whose hash and length the store knows)."""
    known = {r.version: (r.sha256, r.length) for r in store.signed_documents() if r.is_catalog}
    refs: dict[str, CatalogRef] = {}
    for version, devices in store.desired_devices().items():
        sha256, length = known.get(version, (None, None))
        if sha256 is None or length is None:
            continue
        ref = CatalogRef(version=version, sha256=sha256, length=length, url=f"mqtt:{body_topic(sha256)}")
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
