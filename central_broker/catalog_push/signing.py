"""The centre's signing keys for fleet documents: an offline-capable root and an online catalog key.

Folder layout (`SigningKeys.init(dir)`):

    root.key / root.pub        Ed25519 root: only signs `fleet/keys`; its .pub goes into the kiosk image
    catalog.key / catalog.pub  Ed25519 online key: signs catalogs (`down/desired`), commands, control

`keys_document()` is the root-signed `fleet/keys` envelope listing the catalog key with the roles
`catalog`, `cmd` and `control`. The root key can live elsewhere (`root_key` argument): only
`keys_document()` needs it, once per key rotation or yearly re-signing.
"""

from __future__ import annotations

import base64
import logging
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from madoguchi.contracts.base import ContractError
from madoguchi.contracts.signed import Envelope, KeysDocument, PayloadType, PublicKeyEntry, key_id, sign
from madoguchi.errors import UserError
from provisioning.updates.keys import generate_key, load_private_key, load_public_keys

__all__ = ["KEYS_LIFETIME_S", "KEYS_RENEW_S", "SigningKeys", "fleet_root_keys"]

_logger = logging.getLogger(__name__)

KEYS_LIFETIME_S = 365 * 86_400
KEYS_RENEW_S = 30 * 86_400  # a published fleet/keys this close to expiry is signed again
_ROLES = ("catalog", "cmd", "control")


def fleet_root_keys(directory: Path) -> dict[str, Ed25519PublicKey]:
    """The fleet root public key of the signing-key folder (`root.pub`) by key id; empty without one."""
    path = directory / "root.pub"
    if not path.is_file():
        return {}
    return load_public_keys(path)


class SigningKeys:
    """The signing-key folder."""

    def __init__(self, directory: Path, root_key: Path | None = None) -> None:
        self.dir = directory
        self.root_key_path = root_key or directory / "root.key"
        if not (directory / "catalog.key").is_file():
            raise UserError(
                f"no catalog signing key in {directory}",
                f"create the keys with `kiosk-central catalog keys --dir {directory}`",
            )

    @classmethod
    def init(cls, directory: Path) -> SigningKeys:
        """Create root and catalog keys (refuses to overwrite)."""
        for name in ("root", "catalog"):
            if not (directory / f"{name}.key").exists():
                generate_key(directory / f"{name}.key")
                _logger.info("created %s signing key in %s", name, directory)
        return cls(directory)

    @property
    def root_public(self) -> Path:
        """The root public key file kiosks trust (image: KIOSK_FLEET_ROOT_KEYS; else handed out at enrolment)."""
        return self.dir / "root.pub"

    def catalog_key(self) -> Ed25519PrivateKey:
        """The online signing key."""
        return load_private_key(
            self.dir / "catalog.key",
            hint=f"create the keys with `kiosk-central catalog keys --dir {self.dir}`",
        )

    def keys_resign_reason(self, published: bytes | None, now: float | None = None) -> str | None:
        """Why the published `fleet/keys` envelope must be signed again, or None when it still serves.

        It serves while it lists the current catalog key with every role and is more than
        `KEYS_RENEW_S` from its expiry.
        """
        if published is None:
            return "no fleet/keys document was published yet"
        try:
            document = KeysDocument.from_bytes(Envelope.from_bytes(published).body())
        except ContractError:
            return "the published fleet/keys document is unreadable"
        current = key_id(self.catalog_key().public_key())
        listed = next((k for k in document.keys if k.keyid == current), None)
        if listed is None or not set(_ROLES) <= set(listed.roles):
            return "the published fleet/keys does not list the current catalog key"
        now = time.time() if now is None else now
        if document.expires - now * 1000 < KEYS_RENEW_S * 1000:
            expiry = time.strftime("%Y-%m-%d", time.gmtime(document.expires / 1000))
            return f"the published fleet/keys version {document.version} expires on {expiry}"
        return None

    def require_root_key(self, reason: str) -> None:
        """Raise a clear `UserError` when `fleet/keys` must be signed and the root key is not at hand."""
        if not self.root_key_path.is_file():
            raise UserError(
                f"fleet/keys must be signed with the root key ({reason}), and there is no root key at "
                f"{self.root_key_path}",
                "run the same command again with --root-key PATH where the offline root key is kept "
                "(e.g. --root-key /media/offline-usb/root.key); publishing catalogs otherwise needs "
                "only catalog.key",
            )

    def keys_document(self, version: int | None = None, now: float | None = None) -> Envelope:
        """`fleet/keys`: the catalog key with its roles, signed by the root key."""
        now = time.time() if now is None else now
        public = self.catalog_key().public_key()
        entry = PublicKeyEntry(
            keyid=key_id(public),
            public_key=base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode(),
            roles=list(_ROLES),
        )
        document = KeysDocument(
            version=version or int(now),
            expires=int((now + KEYS_LIFETIME_S) * 1000),
            keys=[entry],
        )
        self.require_root_key("it is being signed")
        return sign(PayloadType.KEYS, document.to_bytes(), load_private_key(self.root_key_path))
