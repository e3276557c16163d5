"""The documents of one catalog release: body by hash, manifest, per-device desired, all signed.

The body is served over MQTT as a retained message on `kiosk/v1/fleet/catalog/body/<sha256>`
(≤ 256 KiB, contract §5 size rule); `CatalogRef.url` is `mqtt:<that topic>`. A kiosk subscribes
to exactly that topic when its `down/desired` names it, so no kiosk downloads other towns' catalogs.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from madoguchi.contracts.catalog import Catalog, parse_catalog
from madoguchi.contracts.signed import (
    CatalogRef,
    DesiredDocument,
    Envelope,
    ManifestDocument,
    ManifestFile,
    PayloadType,
    sign,
)
from madoguchi.contracts.topics import PREFIX
from madoguchi.errors import UserError

__all__ = [
    "BODY_TOPIC_PREFIX",
    "CATALOG_FILE_NAME",
    "MANIFEST_LIFETIME_S",
    "MAX_BODY_BYTES",
    "CatalogRelease",
    "body_topic",
    "build_release",
    "sign_catalog_documents",
]

BODY_TOPIC_PREFIX = f"{PREFIX}/fleet/catalog/body/"
CATALOG_FILE_NAME = "catalog.json"
MANIFEST_LIFETIME_S = 14 * 86_400
MAX_BODY_BYTES = 256 * 1024


def body_topic(sha256: str) -> str:
    """Retained topic carrying the catalog body with this hash."""
    return BODY_TOPIC_PREFIX + sha256


@dataclass(frozen=True)
class CatalogRelease:
    """Everything published for one catalog version."""

    catalog: Catalog
    body: bytes
    sha256: str
    manifest: Envelope
    desired: Envelope  # template naming no device (kiosks refuse it): publish `desired_messages` instead
    signed_at: float  # epoch seconds the documents were signed (the re-signing clock starts here)

    @property
    def version(self) -> int:
        """The catalog's release number."""
        return self.catalog.version


def build_release(
    body: bytes,
    key: Ed25519PrivateKey,
    *,
    source: str = "catalog",
    now: float | None = None,
    lifetime_s: float = MANIFEST_LIFETIME_S,
) -> CatalogRelease:
    """Validate a catalog file's bytes and sign its manifest and desired documents.

    Raises:
        CatalogInvalid: the catalog breaks the schema or its rules (each problem listed).
        UserError: the body is over 256 KiB.
    """
    catalog = parse_catalog(body, source)
    if len(body) > MAX_BODY_BYTES:
        raise UserError(
            f"{source} is {len(body)} bytes; catalogs sent over MQTT are limited to {MAX_BODY_BYTES}",
            "remove unused languages or guide pages, or split the guide",
        )
    now = time.time() if now is None else now
    digest = hashlib.sha256(body).hexdigest()
    manifest, desired = sign_catalog_documents(catalog.version, digest, len(body), key, now, lifetime_s)
    return CatalogRelease(
        catalog=catalog, body=body, sha256=digest, manifest=manifest, desired=desired, signed_at=now
    )


def sign_catalog_documents(
    version: int, sha256: str, length: int, key: Ed25519PrivateKey, now: float, lifetime_s: float
) -> tuple[Envelope, Envelope]:
    """The signed manifest and `down/desired` of one catalog release, valid `lifetime_s` from `now`.

    Signing the same release again later gives documents with a later expiry only: a kiosk already
    running it ignores the new desired document (same version and hash), a kiosk that was offline can
    still install it. The desired document here is a template that names no device, so kiosks refuse
    it: what goes to each kiosk's `down/desired` comes from `desired.desired_messages`, addressed to it.
    """
    expires = int((now + lifetime_s) * 1000)
    manifest = ManifestDocument(
        version=version,
        expires=expires,
        files=[ManifestFile(name=CATALOG_FILE_NAME, sha256=sha256, length=length)],
    )
    ref = CatalogRef(version=version, sha256=sha256, length=length, url=f"mqtt:{body_topic(sha256)}")
    desired = DesiredDocument(catalog=ref, expires=expires)
    return (
        sign(PayloadType.MANIFEST, manifest.to_bytes(), key),
        sign(PayloadType.DESIRED, desired.to_bytes(), key),
    )
