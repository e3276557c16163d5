"""Which keys the kiosk trusts for fleet documents (contract §5).

The root public key(s) come with the image (`/etc/madoguchi/fleet-root`, copied to
`<data_dir>/trust/root/*.pub` at boot) or, for an image built without one, with the enrolment answer. The root signs
`fleet/keys`, which lists the online keys and their roles (`catalog`, `cmd`, `control`). A keys
document is accepted only with a valid root signature, a version above the stored one and (once
the clock is synced) not expired; the last accepted one is kept on disk so a restarted kiosk
trusts the same keys before the retained message arrives.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk_app.agent.durable import write_atomic
from madoguchi.contracts.base import ContractError
from madoguchi.contracts.signed import Envelope, KeysDocument, PayloadType, key_id, verify
from madoguchi.errors import UserError
from provisioning.updates.keys import load_public_keys

__all__ = ["TrustStore", "load_root_keys", "root_keys_dir"]

_logger = logging.getLogger(__name__)


def root_keys_dir(data_dir: Path) -> Path:
    """Where the kiosk keeps the fleet root public key(s): from the image (kiosk-data-layout copies
    /etc/madoguchi/fleet-root there at boot), else from the enrolment answer."""
    return data_dir / "trust" / "root"


def load_root_keys(folder: Path) -> dict[str, Ed25519PublicKey]:
    """Root public keys in `folder` (`*.pub`); empty when the folder has none."""
    if not folder.is_dir() or not any(folder.glob("*.pub")):
        return {}
    try:
        return load_public_keys(folder)
    except UserError as exc:
        _logger.error("root keys in %s unreadable: %s", folder, exc)
        return {}


class TrustStore:
    """Root keys plus the accepted `fleet/keys` document.

    Args:
        root_keys: key id → root public key (from the image).
        state_path: where the accepted keys envelope is kept.
        clock: seconds since the Unix epoch; `clock_synced` says whether expiry may be enforced.
    """

    def __init__(
        self,
        root_keys: dict[str, Ed25519PublicKey],
        state_path: Path,
        *,
        clock: Callable[[], float],
        clock_synced: Callable[[], bool],
    ) -> None:
        self.root_keys = root_keys
        self.state_path = state_path
        self._clock = clock
        self._clock_synced = clock_synced
        self._lock = threading.Lock()
        self._document: KeysDocument | None = None
        self._listeners: list[Callable[[], None]] = []
        if state_path.is_file():
            try:
                self._document = self._check(Envelope.from_bytes(state_path.read_bytes()), stored=None)
            except ContractError as exc:
                _logger.error("stored keys document rejected: %s", exc)

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call `listener()` after a new keys document was accepted (documents waiting for keys retry)."""
        self._listeners.append(listener)

    @property
    def version(self) -> int:
        """Version of the accepted keys document (0 before any)."""
        return 0 if self._document is None else self._document.version

    def _check(self, envelope: Envelope, stored: int | None) -> KeysDocument:
        if not self.root_keys:
            raise ContractError(
                "no root key installed (<data_dir>/trust/root/*.pub); cannot trust fleet keys"
            )
        document = KeysDocument.from_bytes(verify(envelope, PayloadType.KEYS, self.root_keys))
        if stored is not None and document.version <= stored:
            raise ContractError(f"keys version {document.version} is not above the stored {stored}")
        if self._clock_synced() and document.expires < self._clock() * 1000:
            raise ContractError(f"keys document version {document.version} has expired")
        return document

    def accept(self, payload: bytes) -> bool:
        """Take a `fleet/keys` message; True if it replaced the keys, False for a repeat.

        Raises:
            ContractError: bad signature, rolled-back version or expired.
        """
        envelope = Envelope.from_bytes(payload)
        with self._lock:
            body = envelope.body()
            if self._document is not None and KeysDocument.from_bytes(body).version == self._document.version:
                self._check(envelope, stored=None)  # a retained repeat must still verify
                return False
            document = self._check(envelope, stored=self.version)
            write_atomic(self.state_path, payload)
            self._document = document
        _logger.info("fleet keys version %d accepted (%d keys)", document.version, len(document.keys))
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:
                _logger.exception("fleet keys listener failed")
        return True

    def keys(self, role: str) -> dict[str, Ed25519PublicKey]:
        """Current keys with `role` (`catalog`, `cmd`, `control`); empty before a keys document."""
        with self._lock:
            document = self._document
        if document is None:
            return {}
        if self._clock_synced() and document.expires < self._clock() * 1000:
            return {}
        result = {}
        for entry in document.keys:
            if role in entry.roles:
                public = Ed25519PublicKey.from_public_bytes(base64.b64decode(entry.public_key))
                result[key_id(public)] = public  # the id is computed, never taken from the document
        return result
