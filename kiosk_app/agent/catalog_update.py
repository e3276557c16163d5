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
transactions): WAITING_IDLE until then. The body arrives by hash on the retained topic named by
`url` (`mqtt:kiosk/v1/fleet/catalog/body/…`).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable

from kiosk_app.agent.catalog_install import CatalogInstall, InstalledCatalog
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
            if not ref.url.startswith(_BODY_PREFIX) or ref.url[len(_BODY_PREFIX) :] != ref.sha256:
                self._refuse(ref, CatalogAckStatus.REJECTED, f"unsupported catalog url {ref.url!r}")
                return
            previous, self._pending, self._verified = self._pending, ref, None
            if previous is not None and previous.url != ref.url:
                self._unsubscribe(previous.url[5:])
            self._ack(ref, CatalogAckStatus.QUEUED, "")
            self._ack(ref, CatalogAckStatus.DOWNLOADING, "")
        self._subscribe(ref.url[5:])

    def on_body(self, body: bytes) -> None:
        """Check the body against the signed length and hash, then apply it (or wait for idle)."""
        with self._lock:
            ref = self._pending
            if ref is None:
                return
            self._pending = None
            self._unsubscribe(ref.url[5:])
            if len(body) > ref.length:
                self._refuse(
                    ref,
                    CatalogAckStatus.FAILED,
                    f"body is {len(body)} bytes, more than the signed {ref.length}",
                )
                return
            if len(body) < ref.length:
                self._refuse(
                    ref, CatalogAckStatus.FAILED, f"body truncated: {len(body)} of {ref.length} bytes"
                )
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
                return
        self.apply_verified()

    def tick(self) -> None:
        """Apply a verified catalog once the app is idle."""
        if self._verified is not None and self._idle():
            self.apply_verified()

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
