"""Re-sign and re-publish retained fleet documents before they expire.

A catalog's manifest and `down/desired` documents (which also name the kiosk's app release) expire 14 days after signing, `fleet/keys` after a
year. A kiosk that was offline, or a replacement kiosk, must still be able to install the catalog its
retained `down/desired` names, so the centre signs the same release again (same version, hash and
length; only `expires` moves) once half of the lifetime has passed, and publishes it retained again.
Kiosks already running that version ignore the new document (same version and hash).

`fleet/keys` is re-signed with a higher version when half of its year has passed — only if the root
key is at hand (`root.key` in the signing folder or `--root-key`); with the root key kept offline, a
warning names the expiry date and the command to run from 30 days before it.

`refresh_documents` does one pass (the `kiosk-central catalog refresh` command, or a systemd timer);
`RefreshLoop` runs passes in the background of `kiosk-central serve`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from central_broker.catalog_push.desired import catalog_url, desired_messages, published_urls
from central_broker.catalog_push.documents import MANIFEST_LIFETIME_S, sign_catalog_documents
from central_broker.catalog_push.publisher import Outgoing, publish_documents
from central_broker.catalog_push.signing import KEYS_LIFETIME_S, SigningKeys
from central_broker.store import FleetStore
from central_broker.store.signed_docs import KEYS_DOCUMENT, SignedRecord
from madoguchi.config.broker import BrokerConfig
from madoguchi.contracts.signed import DesiredDocument, KeysDocument
from madoguchi.contracts.topics import FLEET_CATALOG_MANIFEST, FLEET_KEYS
from madoguchi.errors import UserError

__all__ = ["KEYS_WARNING_S", "RefreshLoop", "RefreshReport", "refresh_documents"]

_logger = logging.getLogger(__name__)

KEYS_WARNING_S = 30 * 86_400


@dataclass(frozen=True)
class RefreshReport:
    """What one pass re-signed and published."""

    catalogs: tuple[int, ...] = ()  # catalog versions re-signed
    desired: int = 0  # `down/desired` documents published
    keys_version: int | None = None  # new `fleet/keys` version, if re-signed
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, object]:
        """For `--json`."""
        return {
            "catalogs": list(self.catalogs),
            "desired": self.desired,
            "keys_version": self.keys_version,
            "warnings": list(self.warnings),
        }


def _due(record: SignedRecord, lifetime_s: float, now_ms: int, force: bool) -> bool:
    return _due_at(record.signed_at, lifetime_s, now_ms, force)


def _due_at(signed_at: int, lifetime_s: float, now_ms: int, force: bool) -> bool:
    return force or now_ms - signed_at >= lifetime_s * 500  # half the lifetime, in ms


def _date(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def refresh_documents(
    broker: BrokerConfig,
    keys: SigningKeys,
    store: FleetStore,
    *,
    now: float | None = None,
    lifetime_s: float = MANIFEST_LIFETIME_S,
    force: bool = False,
) -> RefreshReport:
    """Re-sign and publish every document past half its lifetime (all of them with `force`).

    Only catalog versions some kiosk's `down/desired` still names are refreshed, and the manifest
    only for the newest release. Raises `UserError` when the broker refuses the catalog service.
    """
    now = time.time() if now is None else now
    now_ms = int(now * 1000)
    records = store.signed_documents()
    in_use = store.desired_devices()
    catalogs = [r for r in records if r.is_catalog and r.sha256 is not None and r.length is not None]
    newest = max((r.version for r in catalogs), default=None)
    messages: list[Outgoing] = []
    signed: list[SignedRecord] = []
    warnings: list[str] = []
    keys_version: int | None = None

    keys_record = next((r for r in records if r.name == KEYS_DOCUMENT), None)
    if keys_record is not None and _due(keys_record, KEYS_LIFETIME_S, now_ms, force):
        if keys.root_key_path.is_file():
            envelope = keys.keys_document(version=max(int(now), keys_record.version + 1), now=now)
            document = KeysDocument.from_bytes(envelope.body())
            messages.append(Outgoing(FLEET_KEYS, envelope.to_bytes()))
            signed.append(SignedRecord(KEYS_DOCUMENT, document.version, None, None, now_ms, document.expires))
            keys_version = document.version
        elif keys_record.expires - now_ms <= KEYS_WARNING_S * 1000:
            warnings.append(
                f"fleet/keys version {keys_record.version} expires {_date(keys_record.expires)} and the root "
                f"key is not in {keys.dir}: run `kiosk-central catalog refresh --root-key PATH` where the "
                "root key is kept"
            )

    refreshed: list[int] = []
    desired_count = 0
    covered: set[str] = set()
    catalog_key = None
    urls = published_urls(store) if catalogs else {}
    for record in catalogs:
        devices = in_use.get(record.version, [])
        if not (devices or record.version == newest) or not _due(record, lifetime_s, now_ms, force):
            continue
        catalog_key = catalog_key or keys.catalog_key()
        assert record.sha256 is not None and record.length is not None  # filtered above
        url = catalog_url(urls, record.sha256, record.length)
        if url is None and devices:
            warnings.append(
                f"catalog version {record.version}: its HTTPS download url is unknown, so its kiosks' "
                "down/desired was not re-signed: publish the catalog again"
            )
            devices = []
        manifest, desired = sign_catalog_documents(
            record.version, record.sha256, record.length, catalog_key, now, lifetime_s, url
        )
        if record.version == newest:
            messages.append(Outgoing(FLEET_CATALOG_MANIFEST, manifest.to_bytes()))
        expires = int((now + lifetime_s) * 1000)
        ref = DesiredDocument.from_bytes(desired.body()).catalog
        documents = desired_messages(store, devices, catalog_key, expires, catalog=ref)
        messages += [Outgoing(topic, payload) for topic, payload in documents.items()]
        desired_count += len(documents)
        covered.update(devices)
        signed.append(
            SignedRecord(record.name, record.version, record.sha256, record.length, now_ms, expires)
        )
        refreshed.append(record.version)

    releases = store.release_desired()
    stale = [
        d for d, (_ref, at) in releases.items() if d not in covered and _due_at(at, lifetime_s, now_ms, force)
    ]
    if stale:
        catalog_key = catalog_key or keys.catalog_key()
        documents = desired_messages(store, stale, catalog_key, int((now + lifetime_s) * 1000))
        messages += [Outgoing(topic, payload) for topic, payload in documents.items()]
        desired_count += len(documents)

    if messages:
        publish_documents(broker, messages, store=store)
        store.touch_release_desired(d for d in releases if d in covered or d in stale)
        for record in signed:
            store.record_signed(record)
        _logger.info(
            "re-signed catalog versions %s (%d desired documents)%s",
            refreshed,
            desired_count,
            "" if keys_version is None else f" and fleet/keys version {keys_version}",
        )
    for warning in warnings:
        _logger.warning("%s", warning)
    return RefreshReport(tuple(refreshed), desired_count, keys_version, tuple(warnings))


class RefreshLoop:
    """Runs `refresh_documents` now and then every `interval_s` on a daemon thread until `stop()`."""

    def __init__(
        self,
        broker: BrokerConfig,
        keys: SigningKeys,
        store: FleetStore,
        *,
        interval_s: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._broker = broker
        self._keys = keys
        self._store = store
        self._interval_s = interval_s
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last: RefreshReport | None = None

    def start(self) -> None:
        """Start the background passes."""
        self._thread = threading.Thread(target=self._run, name="document-refresh", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current pass."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.last = refresh_documents(self._broker, self._keys, self._store, now=self._clock())
            except UserError as exc:  # broker away: try again next pass
                _logger.warning("re-signing fleet documents failed: %s", exc.message)
            except Exception:
                _logger.exception("re-signing fleet documents failed")
            self._stop.wait(self._interval_s)
