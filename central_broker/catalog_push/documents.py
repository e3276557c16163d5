"""The documents of one catalog release: body by hash, manifest, per-device desired, all signed.

The body goes by hash, over one of two transports named by `CatalogRef.url` (contract §5: MQTT
messages ≤ 256 KiB, larger bodies by hash over HTTPS):

- up to `MQTT_BODY_BYTES`: a retained message on `kiosk/v1/fleet/catalog/body/<sha256>`, url
  `mqtt:<that topic>`; a kiosk subscribes to exactly that topic when its `down/desired` names it;
- larger (up to `MAX_BODY_BYTES`): a file the enrolment endpoint serves to device certificates,
  url `https://<[fleet] download_url>/v1/catalogs/<sha256>` (mutual TLS, like app releases).

Either way the signed documents carry the hash and length, so the transport is not trusted.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from madoguchi.contracts.catalog import MAX_CATALOG_BYTES, Catalog, parse_catalog
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
from madoguchi.enrolment import CATALOGS_PATH
from madoguchi.errors import UserError

__all__ = [
    "BODY_TOPIC_PREFIX",
    "CATALOG_FILE_NAME",
    "MANIFEST_LIFETIME_S",
    "MAX_BODY_BYTES",
    "MQTT_BODY_BYTES",
    "CatalogRelease",
    "body_topic",
    "body_url",
    "build_release",
    "sign_catalog_documents",
]

BODY_TOPIC_PREFIX = f"{PREFIX}/fleet/catalog/body/"
CATALOG_FILE_NAME = "catalog.json"
MANIFEST_LIFETIME_S = 14 * 86_400
MAX_BODY_BYTES = MAX_CATALOG_BYTES
MQTT_BODY_BYTES = 255 * 1024  # one MQTT message ≤ 256 KiB, with room for topic and headers


def body_topic(sha256: str) -> str:
    """Retained topic carrying the catalog body with this hash."""
    return BODY_TOPIC_PREFIX + sha256


def body_url(sha256: str, length: int, download_url: str | None, source: str = "catalog") -> str:
    """Where kiosks fetch a body: its MQTT topic up to `MQTT_BODY_BYTES`, else HTTPS by hash.

    Raises:
        UserError: the body is too large for MQTT and no `https://` download address is set.
    """
    if length <= MQTT_BODY_BYTES:
        return f"mqtt:{body_topic(sha256)}"
    if not download_url or not download_url.lower().startswith("https://"):
        raise UserError(
            f"{source} is {length} bytes; catalogs over {MQTT_BODY_BYTES} bytes do not fit in one MQTT "
            f"message and are downloaded over HTTPS, but no https:// download address is set"
            + (f" ({download_url!r})" if download_url else ""),
            "set [fleet] download_url to the https:// address kiosks use for the enrolment endpoint "
            "(`kiosk-central enrol-serve`, e.g. https://central.city.example:8443), whose --data-dir "
            "is this central's data_dir",
        )
    return f"{download_url.rstrip('/')}{CATALOGS_PATH}/{sha256}"


@dataclass(frozen=True)
class CatalogRelease:
    """Everything published for one catalog version."""

    catalog: Catalog
    body: bytes
    sha256: str
    manifest: Envelope
    desired: Envelope  # template naming no device (kiosks refuse it): publish `desired_messages` instead
    signed_at: float  # epoch seconds the documents were signed (the re-signing clock starts here)
    url: str  # where kiosks fetch the body (`body_url`)

    @property
    def version(self) -> int:
        """The catalog's release number."""
        return self.catalog.version

    @property
    def over_mqtt(self) -> bool:
        """True when the body goes as a retained MQTT message, False when kiosks download it over HTTPS."""
        return self.url.startswith("mqtt:")


def build_release(
    body: bytes,
    key: Ed25519PrivateKey,
    *,
    source: str = "catalog",
    now: float | None = None,
    lifetime_s: float = MANIFEST_LIFETIME_S,
    download_url: str | None = None,
) -> CatalogRelease:
    """Validate a catalog file's bytes and sign its manifest and desired documents.

    `download_url` is the `https://` address of the enrolment endpoint; it is needed only for a
    body over `MQTT_BODY_BYTES` (see `body_url`).

    Raises:
        CatalogInvalid: the catalog breaks the schema or its rules (each problem listed; at most
            `MAX_BODY_BYTES`).
        UserError: the body is over `MQTT_BODY_BYTES` and no https:// download address is set.
    """
    catalog = parse_catalog(body, source)
    digest = hashlib.sha256(body).hexdigest()
    url = body_url(digest, len(body), download_url, source)
    now = time.time() if now is None else now
    manifest, desired = sign_catalog_documents(catalog.version, digest, len(body), key, now, lifetime_s, url)
    return CatalogRelease(
        catalog=catalog, body=body, sha256=digest, manifest=manifest, desired=desired, signed_at=now, url=url
    )


def sign_catalog_documents(
    version: int,
    sha256: str,
    length: int,
    key: Ed25519PrivateKey,
    now: float,
    lifetime_s: float,
    url: str | None = None,
) -> tuple[Envelope, Envelope]:
    """The signed manifest and `down/desired` of one catalog release, valid `lifetime_s` from `now`.

    Signing the same release again later gives documents with a later expiry only: a kiosk already
    running it ignores the new desired document (same version and hash), a kiosk that was offline can
    still install it. The desired document here is a template that names no device, so kiosks refuse
    it: what goes to each kiosk's `down/desired` comes from `desired.desired_messages`, addressed to it.
    `url` is where kiosks fetch the body (default: its MQTT topic).
    """
    expires = int((now + lifetime_s) * 1000)
    manifest = ManifestDocument(
        version=version,
        expires=expires,
        files=[ManifestFile(name=CATALOG_FILE_NAME, sha256=sha256, length=length)],
    )
    ref = CatalogRef(version=version, sha256=sha256, length=length, url=url or f"mqtt:{body_topic(sha256)}")
    desired = DesiredDocument(catalog=ref, expires=expires)
    return (
        sign(PayloadType.MANIFEST, manifest.to_bytes(), key),
        sign(PayloadType.DESIRED, desired.to_bytes(), key),
    )
