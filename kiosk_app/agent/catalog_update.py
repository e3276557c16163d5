"""Apply signed catalog updates on the kiosk (contract §5), reporting each step on `up/ack`.

Verify order: payload type → signature by a current `catalog` key (from `fleet/keys`) → the
document names this kiosk (`device`; a copy of another kiosk's document, or one naming no device,
is refused and its release not followed) → version above the installed one → not expired (once
the clock is synced) → body length ≤ the signed length → exact length → sha256 → catalog valid →
same version as signed → the catalog's municipality is the kiosk's (from its device id) → atomic
swap (`CatalogInstall`) → version persisted → APPLIED. Any failure keeps the running catalog,
answers REJECTED (the document) or FAILED (the body) and raises the `catalog-update` alert; an
APPLIED update clears it. A refused `fleet/keys` document raises `fleet-keys` (`keys_rejected`); the
first keys document accepted (or verified again) in a run clears it even if an earlier run raised it. Catalogs are applied only while the app is idle (between citizen
transactions): WAITING_IDLE until then.

The body comes by hash from where `url` says: the retained topic `mqtt:kiosk/v1/fleet/catalog/body/<sha256>`
(bodies that fit in one MQTT message), or `https://…/v1/catalogs/<sha256>` downloaded over mutual TLS
with the kiosk's certificate (`release_fetch.fetch_by_hash`, as app releases). A failed download
answers FAILED, raises the `catalog-update` alert and is tried again with a growing pause (resuming
what arrived); the checks after it are the same for both transports.
"""

from __future__ import annotations

import hashlib
import logging
import ssl
import threading
from collections.abc import Callable

from kiosk_app.agent.catalog_install import CatalogInstall, InstalledCatalog
from kiosk_app.agent.release_fetch import FetchError, fetch_by_hash
from kiosk_app.agent.telemetry import Telemetry
from kiosk_app.agent.trust import TrustStore
from madoguchi.contracts.base import ContractError, municipality_of
from madoguchi.contracts.catalog import CatalogInvalid, parse_catalog
from madoguchi.contracts.messages import AckMessage, CatalogAckStatus, Severity
from madoguchi.contracts.signed import CatalogRef, DesiredDocument, Envelope, PayloadType, ReleaseRef, verify
from madoguchi.contracts.topics import FLEET_KEYS, PREFIX, Down, Up, down, up

__all__ = ["CATALOG_ALERT", "KEYS_ALERT", "CatalogUpdater"]

_logger = logging.getLogger(__name__)

CATALOG_ALERT = "catalog-update"
KEYS_ALERT = "fleet-keys"
_BODY_PREFIX = f"mqtt:{PREFIX}/fleet/catalog/body/"
_HTTPS_PREFIX = "https://"


class CatalogUpdater:
    """Handles `down/desired`, the catalog body topic and `fleet/keys` for one kiosk.

    Args:
        device_id: this kiosk.
        install: installed catalogs on disk.
        trust: root and fleet keys.
        telemetry: for alerts.
        publish: `(topic, payload)` with QoS 1 (the agent's session).
        subscribe / unsubscribe: manage the body topic subscription.
        clock / clock_synced: expiry is enforced only once the clock is synced.
        idle: whether the app is between citizen transactions.
        on_applied: called after a catalog is installed (the agent re-announces its versions).
        on_release: called with the app release a verified, unexpired desired document for this
            kiosk names.
        tls: the mutual-TLS context for HTTPS bodies (pinned fleet root, this kiosk's certificate);
            None refuses them.
        retry_s: first and longest pause before a failed download is tried again (doubling).
    """

    def __init__(
        self,
        device_id: str,
        install: CatalogInstall,
        trust: TrustStore,
        telemetry: Telemetry,
        *,
        publish: Callable[[str, bytes], bool],
        subscribe: Callable[[str], None],
        unsubscribe: Callable[[str], None],
        clock: Callable[[], float],
        clock_synced: Callable[[], bool],
        idle: Callable[[], bool] = lambda: True,
        on_applied: Callable[[InstalledCatalog], None] = lambda _c: None,
        on_release: Callable[[ReleaseRef], None] = lambda _r: None,
        tls: Callable[[], ssl.SSLContext] | None = None,
        retry_s: tuple[float, float] = (15.0, 900.0),
    ) -> None:
        self.device_id = device_id
        self.install = install
        self.trust = trust
        self._telemetry = telemetry
        self._publish = publish
        self._subscribe = subscribe
        self._unsubscribe = unsubscribe
        self._clock = clock
        self._clock_synced = clock_synced
        self._idle = idle
        self._on_applied = on_applied
        self._on_release = on_release
        self._lock = threading.RLock()
        self._desired_topic = down(device_id, Down.DESIRED)
        self._pending: CatalogRef | None = None
        self._waiting_keys: bytes | None = None
        self._verified: tuple[CatalogRef, bytes] | None = None
        self._keys_alert_checked = False  # cleared once per run: an earlier run may have left it retained
        self._tls = tls
        self._retry_s = retry_s
        self._downloading: CatalogRef | None = None  # HTTPS body being fetched
        self._retry_at: float | None = None  # when the pending HTTPS body is tried again
        self._failures = 0  # failed downloads of the pending body in a row
        self.downloads = install.root / "incoming"  # HTTPS bodies while they download

    # --- routing --------------------------------------------------------------------------------

    def handle(self, topic: str, payload: bytes) -> bool:
        """Take a downlink message; False if it is not for catalog updates."""
        if topic == self._desired_topic:
            if payload:
                self.on_desired(payload)
            return True
        if topic == FLEET_KEYS:
            if payload:
                self.on_keys(payload)
            return True
        pending = self._pending
        if pending is not None and f"mqtt:{topic}" == pending.url:
            if payload:
                self.on_body(payload)
            return True
        return topic.startswith(_BODY_PREFIX[5:])

    def on_keys(self, payload: bytes) -> None:
        """A `fleet/keys` document: accept or alert; retry a desired document that waited for keys."""
        try:
            changed = self.trust.accept(payload)
        except ContractError as exc:
            _logger.error("%s: fleet keys rejected: %s", self.device_id, exc)
            self._telemetry.raise_alert(KEYS_ALERT, "keys_rejected", Severity.ERROR, str(exc)[:500])
            return
        self._telemetry.clear_alert(KEYS_ALERT, even_if_unknown=not self._keys_alert_checked)
        self._keys_alert_checked = True
        waiting, self._waiting_keys = self._waiting_keys, None
        if waiting is not None:
            self.on_desired(waiting)
        elif changed:
            _logger.info("%s: fleet keys changed", self.device_id)

    # --- steps ----------------------------------------------------------------------------------

    def on_desired(self, payload: bytes) -> None:
        """Check a `down/desired` document and start fetching its body."""
        with self._lock:
            keys = self.trust.keys("catalog")
            if not keys:
                _logger.info("%s: desired catalog waits for fleet/keys", self.device_id)
                self._waiting_keys = payload
                return
            try:
                envelope = Envelope.from_bytes(payload)
                desired = DesiredDocument.from_bytes(verify(envelope, PayloadType.DESIRED, keys))
            except ContractError as exc:
                self._refuse("unknown", CatalogAckStatus.REJECTED, f"desired document refused: {exc}")
                return
            if desired.device != self.device_id:
                whose = (
                    "names no device: upgrade the centre"
                    if desired.device is None
                    else f"is for {desired.device}, not this kiosk"
                )
                self._refuse(desired.catalog or "unknown", CatalogAckStatus.REJECTED,
                             f"desired document refused: it {whose}")  # fmt: skip
                return
            expired = self._clock_synced() and desired.expires < self._clock() * 1000
            if desired.release is not None and not expired:
                self._on_release(desired.release)
            ref = desired.catalog
            if ref is None:
                return
            installed = self.install.current()
            if installed is not None and ref.version <= installed.version:
                if ref.version == installed.version and ref.sha256 == installed.sha256:
                    return  # the retained document of what we already run
                self._refuse(ref, CatalogAckStatus.REJECTED,
                             f"version {ref.version} is not above the installed {installed.version} (rollback refused)")  # fmt: skip
                return
            if expired:
                self._refuse(ref, CatalogAckStatus.REJECTED, f"catalog version {ref.version} has expired")
                return
            over_mqtt = ref.url.startswith(_BODY_PREFIX) and ref.url[len(_BODY_PREFIX) :] == ref.sha256
            over_https = ref.url.startswith(_HTTPS_PREFIX) and ref.url.rsplit("/", 1)[-1] == ref.sha256
            if not (over_mqtt or over_https):
                self._refuse(ref, CatalogAckStatus.REJECTED, f"unsupported catalog url {ref.url!r}")
                return
            if over_https and self._tls is None:
                self._refuse(ref, CatalogAckStatus.REJECTED,
                             "catalog is downloaded over https and this kiosk has no TLS identity for it")  # fmt: skip
                return
            previous = self._pending
            if over_https and ref in (previous, self._verified and self._verified[0]):
                return  # the same document again (re-published): its download or verified body stands
            self._pending, self._verified = ref, None
            self._retry_at, self._failures = None, 0
            if previous is not None and previous.url != ref.url and previous.url.startswith(_BODY_PREFIX):
                self._unsubscribe(previous.url[5:])
            self._ack(ref, CatalogAckStatus.QUEUED, "")
            self._ack(
                ref, CatalogAckStatus.DOWNLOADING, "" if over_mqtt else f"{ref.length} bytes over https"
            )
            if over_https:
                self._start_download(ref)
                return
        self._subscribe(ref.url[5:])

    def _start_download(self, ref: CatalogRef) -> None:
        """Fetch the HTTPS body of `ref` on a worker thread (one at a time; the caller holds the lock)."""
        if self._downloading is not None:
            return  # the running one starts the pending body when it ends, if it changed
        self._downloading = ref
        threading.Thread(target=self._download, args=(ref,), name="catalog-download", daemon=True).start()

    def _download(self, ref: CatalogRef) -> None:
        assert self._tls is not None  # checked before a download starts
        target = self.downloads / f"{ref.sha256}.json"
        try:
            path = fetch_by_hash(ref.url, ref.sha256, ref.length, target, self._tls())
            body = path.read_bytes()
            for left in [path, *self.downloads.glob("*.part")]:  # parts of bodies no longer wanted go too
                left.unlink(missing_ok=True)
        except (FetchError, OSError) as exc:
            with self._lock:
                self._downloading = None
                if self._pending != ref:
                    self._next_download()
                    return
                self._failures += 1
                pause = min(self._retry_s[0] * 2 ** (self._failures - 1), self._retry_s[1])
                self._retry_at = self._clock() + pause
                what = (
                    "download refused" if isinstance(exc, FetchError) and exc.integrity else "download failed"
                )
                self._refuse(ref, CatalogAckStatus.FAILED, f"{what}: {exc}; trying again in {pause:g} s")
            return
        with self._lock:
            self._downloading = None
            if self._pending != ref:
                self._next_download()
                return
            self._pending = None
            self._check_body(ref, body)
        self._apply_if_idle()

    def _next_download(self) -> None:
        """A newer HTTPS body became pending while another downloaded: fetch it now (lock held)."""
        pending = self._pending
        if pending is not None and pending.url.startswith(_HTTPS_PREFIX) and self._retry_at is None:
            self._start_download(pending)

    def on_body(self, body: bytes) -> None:
        """A body on the MQTT topic of the pending catalog: check it, then apply it (or wait for idle)."""
        with self._lock:
            ref = self._pending
            if ref is None or not ref.url.startswith(_BODY_PREFIX):
                return
            self._pending = None
            self._unsubscribe(ref.url[5:])
            self._check_body(ref, body)
        self._apply_if_idle()

    def _check_body(self, ref: CatalogRef, body: bytes) -> None:
        """Check a body against the signed length and hash and the kiosk; keep it verified (lock held)."""
        if len(body) > ref.length:
            self._refuse(
                ref,
                CatalogAckStatus.FAILED,
                f"body is {len(body)} bytes, more than the signed {ref.length}",
            )
            return
        if len(body) < ref.length:
            self._refuse(ref, CatalogAckStatus.FAILED, f"body truncated: {len(body)} of {ref.length} bytes")
            return
        digest = hashlib.sha256(body).hexdigest()
        if digest != ref.sha256:
            self._refuse(
                ref, CatalogAckStatus.FAILED, f"sha256 {digest[:16]}… does not match the signed hash"
            )
            return
        try:
            catalog = parse_catalog(body, f"catalog v{ref.version}")
        except CatalogInvalid as exc:
            self._refuse(ref, CatalogAckStatus.FAILED, f"catalog invalid: {str(exc)[:300]}")
            return
        if catalog.version != ref.version:
            self._refuse(ref, CatalogAckStatus.FAILED,
                         f"body says version {catalog.version}, the signed document {ref.version}")  # fmt: skip
            return
        city = municipality_of(self.device_id)
        if city is not None and catalog.municipality.code != city:
            self._refuse(ref, CatalogAckStatus.FAILED,
                         f"catalog is for municipality {catalog.municipality.code}; this kiosk is in {city}")  # fmt: skip
            return
        self._ack(ref, CatalogAckStatus.VERIFIED, "")
        self._verified = (ref, body)
        if not self._idle():
            self._ack(ref, CatalogAckStatus.WAITING_IDLE, "applied after the current customer")

    def _apply_if_idle(self) -> None:
        if self._verified is not None and self._idle():
            self.apply_verified()

    def tick(self) -> None:
        """Try a failed HTTPS download again when due; apply a verified catalog once the app is idle."""
        with self._lock:
            ref, at = self._pending, self._retry_at
            if ref is not None and at is not None and self._clock() >= at:
                self._retry_at = None
                self._ack(
                    ref,
                    CatalogAckStatus.DOWNLOADING,
                    f"{ref.length} bytes over https, attempt {self._failures + 1}",
                )
                self._start_download(ref)
        self._apply_if_idle()

    def apply_verified(self) -> None:
        """Swap in the verified catalog and report APPLIED."""
        with self._lock:
            verified, self._verified = self._verified, None
            if verified is None:
                return
            ref, body = verified
            try:
                installed = self.install.install(ref.version, ref.sha256, body)
            except OSError as exc:
                self._refuse(ref, CatalogAckStatus.FAILED, f"could not install: {exc}")
                return
            self._ack(ref, CatalogAckStatus.APPLIED, f"running catalog version {ref.version}")
        self._telemetry.clear_alert(CATALOG_ALERT)
        self._on_applied(installed)

    # --- reporting ------------------------------------------------------------------------------

    def _ack(self, ref: CatalogRef | str, status: CatalogAckStatus, detail: str) -> None:
        name = ref if isinstance(ref, str) else f"catalog-v{ref.version}"
        message = AckMessage(ref=name, kind="catalog", status=status.value, detail=detail[:500],
                             ts=int(self._clock() * 1000))  # fmt: skip
        self._publish(up(self.device_id, Up.ACK), message.to_bytes())

    def _refuse(self, ref: CatalogRef | str, status: CatalogAckStatus, detail: str) -> None:
        installed = self.install.version()
        keep = (
            f"; keeping catalog version {installed}"
            if installed is not None
            else "; no catalog installed yet"
        )
        _logger.error("%s: catalog update %s: %s%s", self.device_id, status.value, detail, keep)
        self._ack(ref, status, detail + keep)
        code = "catalog_rejected" if status is CatalogAckStatus.REJECTED else "catalog_failed"
        self._telemetry.raise_alert(CATALOG_ALERT, code, Severity.ERROR, (detail + keep)[:500])
