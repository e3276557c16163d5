"""Encryption at rest for issued documents (AES-256-GCM from `cryptography`).

Documents waiting for confirmation are always stored encrypted. With a configured key they stay
readable across restarts (and, if retention is on, after confirmation); without one the key lives
only in memory, so nothing readable survives the process.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from madoguchi.errors import ConfigError

__all__ = ["Vault"]

_NONCE = 12


class Vault:
    """Encrypts document bytes with AES-256-GCM; the serial is authenticated associated data."""

    def __init__(self, key: bytes | None = None) -> None:
        if key is not None and len(key) != 32:
            raise ConfigError("the document key must be 32 bytes", "generate one with Vault.new_key_text()")
        self.persistent = key is not None
        self._aead = AESGCM(key or AESGCM.generate_key(bit_length=256))

    @staticmethod
    def new_key_text() -> str:
        """A new key as base64 text for the configuration."""
        return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode("ascii")

    @classmethod
    def from_text(cls, text: str) -> Vault:
        """A vault from a base64 key."""
        try:
            return cls(base64.b64decode(text, validate=True))
        except ValueError as exc:
            raise ConfigError(
                "the document key is not base64", "generate one with Vault.new_key_text()"
            ) from exc

    def seal(self, serial: str, data: bytes) -> bytes:
        """Encrypt `data` for document `serial`."""
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, data, serial.encode())

    def open(self, serial: str, blob: bytes) -> bytes | None:
        """Decrypt, or None when the blob is not this vault's (e.g. written by an earlier process)."""
        try:
            return self._aead.decrypt(blob[:_NONCE], blob[_NONCE:], serial.encode())
        except (InvalidTag, ValueError):
            return None
