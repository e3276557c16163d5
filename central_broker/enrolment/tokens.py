"""One-time enrolment tokens: bound to a device id, hashed at rest, single use, with an expiry."""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from central_broker.pki.x509 import check_name
from madoguchi.enrolment import PAIRING_ALPHABET, PAIRING_CODE_LENGTH, RefusalCode, normalise_code
from madoguchi.errors import UserError
from madoguchi.sqlite import connect_durable

__all__ = ["EnrolmentRefused", "IssuedToken", "TokenRecord", "TokenStore", "normalise_code", "parse_duration"]

T = TypeVar("T")

# Crockford base32: no I, L, O, U, so a code read aloud or typed on a touchscreen is unambiguous.
_DURATION = re.compile(r"^(\d+)([mhd])$")
_UNITS = {"m": 60, "h": 3600, "d": 86400}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS enrol_tokens (
    token_hash TEXT PRIMARY KEY,
    code_hash TEXT NOT NULL UNIQUE,
    device_id TEXT NOT NULL,
    branch TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
"""


class EnrolmentRefused(UserError):
    """The central refuses a request; `code` tells the device why, the text tells a person."""

    def __init__(self, code: RefusalCode, message: str, hint: str = "") -> None:
        super().__init__(message, hint)
        self.code = code


@dataclass(frozen=True)
class IssuedToken:
    """What `enrol-token` hands to the branch office: shown once, never stored in clear."""

    device_id: str
    branch: str
    token: str
    pairing_code: str
    expires_at: int


@dataclass(frozen=True)
class TokenRecord:
    """A stored token (hashes only)."""

    device_id: str
    branch: str
    created_at: int
    expires_at: int
    used_at: int | None


def parse_duration(text: str) -> int:
    """Seconds in a duration such as `30m`, `72h` or `7d`."""
    match = _DURATION.fullmatch(text.strip())
    if not match or int(match.group(1)) == 0:
        raise UserError(f"duration {text!r} is not understood", "write a number and a unit: 30m, 72h or 7d")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _hash(secret: str) -> str:
    # Tokens carry 256 random bits and codes 50, both single use with an expiry: a plain SHA-256 suffices.
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenStore:
    """The `enrol_tokens` table in a central SQLite file (WAL, synchronous=FULL)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = connect_durable(self.path)
        try:
            yield db
        finally:
            db.close()

    def issue(self, device_id: str, branch: str, ttl_s: int, now: float | None = None) -> IssuedToken:
        """Mint a token and a pairing code for `device_id`; earlier unused tokens of it stay valid."""
        check_name(device_id)
        if not branch.strip():
            raise UserError("the branch name is empty", "pass --branch with the branch office name")
        created = int(now if now is not None else time.time())
        token = secrets.token_urlsafe(32)
        code = "".join(secrets.choice(PAIRING_ALPHABET) for _ in range(PAIRING_CODE_LENGTH))
        with self._connect() as db:
            db.execute(
                "INSERT INTO enrol_tokens (token_hash, code_hash, device_id, branch, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (_hash(token), _hash(code), device_id, branch, created, created + ttl_s),
            )
        return IssuedToken(device_id, branch, token, f"{code[:5]}-{code[5:]}", created + ttl_s)

    def redeem(
        self, secret: str, is_code: bool, device_id: str, now: float, issue: Callable[[TokenRecord], T]
    ) -> T:
        """Check a token for `device_id`, run `issue`, and mark the token used — all or nothing.

        Raises:
            EnrolmentRefused: unknown, already used, expired, or bound to another device.
        """
        column = "code_hash" if is_code else "token_hash"
        digest = _hash(normalise_code(secret) if is_code else secret)
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    f"SELECT device_id, branch, created_at, expires_at, used_at FROM enrol_tokens WHERE {column} = ?",  # noqa: S608 - column from a fixed pair
                    (digest,),
                ).fetchone()
                record = self._check(row, device_id, now)
                result = issue(record)
                db.execute(f"UPDATE enrol_tokens SET used_at = ? WHERE {column} = ?", (int(now), digest))  # noqa: S608
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return result

    @staticmethod
    def _check(row: tuple[str, str, int, int, int | None] | None, device_id: str, now: float) -> TokenRecord:
        if row is None:
            raise EnrolmentRefused(
                RefusalCode.TOKEN_UNKNOWN,
                "this enrolment token or pairing code is not known to the central",
                "check it was copied completely, or ask the operator for a new one (kiosk-central enrol-token)",
            )
        record = TokenRecord(*row)
        if record.used_at is not None:
            raise EnrolmentRefused(
                RefusalCode.TOKEN_USED,
                f"this enrolment token for {record.device_id} was already used",
                "tokens work once; ask the operator for a new token for this device",
            )
        if now >= record.expires_at:
            raise EnrolmentRefused(
                RefusalCode.TOKEN_EXPIRED,
                f"this enrolment token for {record.device_id} expired",
                "ask the operator for a new token (kiosk-central enrol-token --expires 7d)",
            )
        if record.device_id != device_id:
            raise EnrolmentRefused(
                RefusalCode.TOKEN_OTHER_DEVICE,
                f"this enrolment token is for device {record.device_id}, not {device_id}",
                "put each device's own enrol.json on its card, or set this device's name correctly",
            )
        return record

    def tokens(self, device_id: str | None = None) -> list[TokenRecord]:
        """Stored tokens (without secrets), newest first."""
        query = "SELECT device_id, branch, created_at, expires_at, used_at FROM enrol_tokens"
        with self._connect() as db:
            if device_id is None:
                rows = db.execute(query + " ORDER BY created_at DESC").fetchall()
            else:
                rows = db.execute(
                    query + " WHERE device_id = ? ORDER BY created_at DESC", (device_id,)
                ).fetchall()
        return [TokenRecord(*row) for row in rows]
