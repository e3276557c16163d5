"""Release-signing keys: an Ed25519 key pair for the centre, public keys baked into the kiosk image."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from madoguchi.contracts.signed import key_id
from madoguchi.errors import UserError

__all__ = ["generate_key", "load_private_key", "load_public_keys"]


def generate_key(private_path: Path) -> Path:
    """Create `<name>.key` (0600) and `<name>.pub` next to it; return the public key path."""
    if private_path.exists():
        raise UserError(f"{private_path} already exists", "keep the existing key or choose another path")
    key = Ed25519PrivateKey.generate()
    private_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    public = private_path.with_suffix(".pub")
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return public


def load_private_key(
    path: Path, hint: str = "create one with `kiosk-central release keygen`"
) -> Ed25519PrivateKey:
    """Read an Ed25519 signing key (PEM); `hint` says how to get the right one (default: a release key)."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise UserError(f"signing key {path} does not exist", hint) from None
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot load the signing key {path}: {exc}", hint) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UserError(f"{path} is not an Ed25519 key", hint)
    return key


def load_public_keys(location: Path) -> dict[str, Ed25519PublicKey]:
    """Trusted keys by key id, from one `.pub` file or every `*.pub` in a folder."""
    files = sorted(location.glob("*.pub")) if location.is_dir() else [location]
    keys: dict[str, Ed25519PublicKey] = {}
    for path in files:
        try:
            public = serialization.load_pem_public_key(path.read_bytes())
        except (FileNotFoundError, ValueError):
            raise UserError(f"{path} is not a readable release public key", "check --keys") from None
        if isinstance(public, Ed25519PublicKey):
            keys[key_id(public)] = public
    if not keys:
        raise UserError(
            f"no trusted release keys in {location}", "the image installs them in /etc/madoguchi/release-keys"
        )
    return keys
