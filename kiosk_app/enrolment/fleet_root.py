"""The fleet signing root a kiosk trusts after enrolment: its image's, else the one the central hands over.

The image's root (KIOSK_FLEET_ROOT_KEYS, copied to `<data>/kiosk/trust/root/` at boot) always wins: the
enrolment request names it, and the central refuses before spending the token when it signs under another
root. A kiosk whose image brought none installs the central's root from the enrolment answer; that answer
comes over TLS pinned to the fleet CA, and when `enrol.json` names a root (`fleet_root_id`, written by
`kiosk-central enrol-token`) the answer must carry exactly that key.
"""

from __future__ import annotations

import logging
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk_app.agent.trust import load_root_keys, root_keys_dir
from kiosk_app.enrolment.swap import NewFile
from madoguchi.contracts.signed import key_id
from madoguchi.errors import UserError

__all__ = ["RootCheck", "fleet_root_folder"]

_logger = logging.getLogger(__name__)


def fleet_root_folder(data_dir: Path) -> Path:
    """`<data>/kiosk/trust/root`: the kiosk's state folder is `<data>/kiosk` (see the enrolled kiosk.toml)."""
    return root_keys_dir(data_dir / "kiosk")


class RootCheck:
    """What the device trusts before enrolling, and which root files the enrolment answer adds."""

    def __init__(self, data_dir: Path, pinned_id: str = "") -> None:
        self.folder = fleet_root_folder(data_dir)
        self.installed = load_root_keys(self.folder)
        self.pinned_id = pinned_id.strip().lower()
        if self.pinned_id and self.installed and self.pinned_id not in self.installed:
            raise UserError(
                f"enrol.json names fleet root {self.pinned_id}, but this image trusts {', '.join(sorted(self.installed))}",
                "this card was prepared for another fleet; ask the operator for a token of the central this image was built for",
            )

    def trusted_ids(self) -> list[str]:
        """Root ids to send with the request (the central refuses early when it signs under none)."""
        return sorted({*self.installed, *([self.pinned_id] if self.pinned_id else [])})

    def files(self, offered: list[str]) -> list[NewFile]:
        """Root key files to install with the new identity (none when the image brought its root).

        Raises:
            UserError: the answer's keys are unreadable, or miss the root enrol.json or the image names.
        """
        received = _parse(offered)
        if self.installed:
            if received and not set(received) & set(self.installed):
                raise UserError(
                    f"the central signs under fleet root {', '.join(sorted(received))}, not this image's"
                    f" {', '.join(sorted(self.installed))}",
                    "enrol with the central the image was built for; signed catalogs of this one would be refused",
                )
            return []
        if self.pinned_id and self.pinned_id not in received:
            raise UserError(
                f"the central did not hand over fleet root {self.pinned_id}, which enrol.json names",
                "check the enrolment URL: this answer did not come from the central that issued the token",
            )
        if not received:
            _logger.warning(
                "no fleet root key from the image or the central: signed catalogs, commands and releases"
                " will be refused until one is installed in %s",
                self.folder,
            )
        return [NewFile(self.folder / f"{kid}.pub", _pem(key)) for kid, key in sorted(received.items())]


def _parse(offered: list[str]) -> dict[str, Ed25519PublicKey]:
    keys: dict[str, Ed25519PublicKey] = {}
    for text in offered:
        try:
            key = serialization.load_pem_public_key(text.encode())
        except ValueError:
            key = None
        if not isinstance(key, Ed25519PublicKey):
            raise UserError(
                "the central's fleet root key is not an Ed25519 public key",
                "check the central's signing keys",
            )
        keys[key_id(key)] = key
    return keys


def _pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
