"""Each kiosk's whole `down/desired` document: the catalog and the app release it should run.

One retained document per kiosk names both (contract §5, extended for app releases), so whatever
publishes one of them — a catalog push, a catalog or release rollout stage, the re-signing pass —
composes the document from what the store says the kiosk was last told, with its own change laid
over it. Kiosks sharing the same pair share one signature.
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

    A kiosk that ends up with neither gets no document (there is nothing to tell it).
    """
    catalogs = catalog_refs(store) if store is not None and catalog is None else {}
    releases = {d: r for d, (r, _at) in store.release_desired().items()} if store is not None and release is None else {}  # fmt: skip
    signed: dict[tuple[str, str], bytes] = {}
    messages: dict[str, bytes] = {}
    for device_id in device_ids:
        pair = (catalog or catalogs.get(device_id), release or releases.get(device_id))
        if pair == (None, None):
            continue
        cache_key = (
            pair[0].to_bytes().decode() if pair[0] else "",
            pair[1].to_bytes().decode() if pair[1] else "",
        )
        if cache_key not in signed:
            document = DesiredDocument(catalog=pair[0], release=pair[1], expires=expires_ms)
            signed[cache_key] = sign(PayloadType.DESIRED, document.to_bytes(), key).to_bytes()
        messages[down(device_id, Down.DESIRED)] = signed[cache_key]
    return messages
