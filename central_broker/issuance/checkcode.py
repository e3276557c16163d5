"""The verification code printed on a certificate, and the keyed hashes the online check compares.

The code is 16 random decimal digits (53 bits), printed as ``1234-5678-9012-3456``: it is drawn
from `secrets`, not derived from the serial, so a serial alone never lets anyone query a
certificate. The store keeps neither the code nor the holder's name: only HMAC-SHA-256 values under
a key derived (HKDF) from the issuance audit key, salted with the serial, so a copy of the database
does not allow guessing codes, names or birth dates offline.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import unicodedata
from datetime import date

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from central_broker.issuance.printed import canonical

__all__ = ["CODE_DIGITS", "CheckKeys", "format_code", "new_code", "normalise_code"]

_logger = logging.getLogger(__name__)

CODE_DIGITS = 16


def new_code() -> str:
    """A fresh random verification code (16 digits, no separators)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def format_code(code: str) -> str:
    """The code as printed: four groups of four digits."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalise_code(text: str) -> str | None:
    """The 16 digits of a typed code (full-width digits, spaces and hyphens allowed); None when malformed."""
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch not in " -‐‑–—ー")
    return digits if len(digits) == CODE_DIGITS and digits.isascii() and digits.isdigit() else None


class CheckKeys:
    """The keyed hashes of the online check, under a key derived from the audit key."""

    def __init__(self, audit_key: bytes) -> None:
        self._key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"madoguchi online check v1"
        ).derive(audit_key)

    def __repr__(self) -> str:
        return "CheckKeys(<secret>)"

    def _mac(self, *parts: str) -> str:
        return hmac.new(self._key, "\n".join(parts).encode("utf-8"), hashlib.sha256).hexdigest()

    def code(self, serial: str, code: str) -> str:
        """The stored value of `code` (normalised digits) for `serial`."""
        return self._mac("code", serial, code)

    def holder(self, serial: str, name: str, birth_date: date) -> str:
        """The stored value of the holder's printed name and birth date for `serial` (name canonical)."""
        return self._mac("holder", serial, canonical(name), birth_date.isoformat())

    @staticmethod
    def same(stored: str | None, computed: str) -> bool:
        """Constant-time comparison; False when nothing is stored."""
        return stored is not None and hmac.compare_digest(stored, computed)
