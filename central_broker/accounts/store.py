"""Local web accounts: argon2id password hashes, lockout, server-side sessions and the audit log.

Lockout: after `max_failures` wrong passwords in a row an account is locked for `lockout_s`
seconds; a wrong password while locked does not extend it, a right one does not open it. The
refusal never says whether the user name exists. Sessions are random tokens kept as SHA-256 in
the database (a stolen database holds no usable cookie) and expire after `session_ttl_s`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import secrets
import time
from collections.abc import Callable
from typing import NoReturn

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, delete, insert, select, update

from central_broker.accounts.models import Account, AuditEntry, LoginRefused, Role, WebSession
from central_broker.accounts.schema import audit_log, metadata, web_account, web_session
from madoguchi.errors import UserError

__all__ = ["MIN_PASSWORD_LENGTH", "AccountStore"]

_logger = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 10
_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
_BAD_LOGIN = "wrong user name or password"
# A real hash to verify against when the user does not exist, so both cases take the same time.
_DUMMY_PASSWORD = "not-a-real-password"  # noqa: S105 - only used to equalise timing


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountStore:
    """Accounts, sessions and the audit log on the central database.

    Args:
        engine: the central store's engine (same database URL).
        clock: seconds since the Unix epoch.
        max_failures: wrong passwords in a row before the lockout.
        lockout_s: how long a locked account stays locked.
        session_ttl_s: how long a session lasts.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], float] = time.time,
        max_failures: int = 5,
        lockout_s: int = 900,
        session_ttl_s: int = 8 * 3600,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.engine = engine
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self.session_ttl_s = session_ttl_s
        self._clock = clock
        self._hasher = hasher or PasswordHasher()
        self._dummy_hash = ""

    def create_schema(self) -> None:
        """Create missing tables (idempotent)."""
        metadata.create_all(self.engine)

    def _now(self) -> int:
        return int(self._clock() * 1000)

    # --- accounts --------------------------------------------------------------------------------

    def add_user(self, username: str, password: str, role: Role, *, actor: str = "cli") -> Account:
        """Create an account.

        Raises:
            UserError: bad user name, short password, or the name is taken.
        """
        if not _USERNAME.match(username):
            raise UserError(
                f"user name {username!r} is not allowed",
                "use 2-64 lower-case letters, digits, '.', '_' or '-', starting with a letter",
            )
        if len(password) < MIN_PASSWORD_LENGTH:
            raise UserError(
                f"the password has {len(password)} characters; at least {MIN_PASSWORD_LENGTH} are needed",
                "choose a longer passphrase",
            )
        now = self._now()
        with self.engine.begin() as conn:
            if conn.execute(select(web_account.c.username).where(web_account.c.username == username)).first():
                raise UserError(f"user {username!r} already exists", "choose another name")
            conn.execute(
                insert(web_account).values(
                    username=username,
                    role=role.value,
                    password_hash=self._hasher.hash(password),
                    failed_logins=0,
                    created_at=now,
                )
            )
        self.audit(actor, "user.add", username, f"role={role.value}")
        return Account(username, role, now, None, None)

    def users(self) -> list[Account]:
        """Every account, by name."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(web_account).order_by(web_account.c.username)).all()
        return [Account(r.username, Role(r.role), r.created_at, r.last_login, r.locked_until) for r in rows]

    # --- sign-in ---------------------------------------------------------------------------------

    def _verify_dummy(self, password: str) -> None:
        if not self._dummy_hash:
            self._dummy_hash = self._hasher.hash(_DUMMY_PASSWORD)
        with contextlib.suppress(VerificationError):
            self._hasher.verify(self._dummy_hash, password)

    def login(self, username: str, password: str) -> WebSession:
        """Check a password and open a session.

        Raises:
            LoginRefused: wrong name or password, or the account is locked (`locked=True`).
        """
        now = self._now()
        with self.engine.connect() as conn:
            row = conn.execute(select(web_account).where(web_account.c.username == username)).first()
        if row is None:
            self._verify_dummy(password)
            self.audit(username[:64] or "-", "login.failed", username[:64], "unknown user")
            raise LoginRefused(_BAD_LOGIN, "check both and try again")
        if row.locked_until is not None and row.locked_until > now:
            self.audit(username, "login.refused_locked", username, "")
            minutes = max(1, (row.locked_until - now + 59_999) // 60_000)
            raise LoginRefused(
                "this account is locked after repeated wrong passwords",
                f"try again in {minutes} min, or ask an operator",
                locked=True,
            )
        try:
            self._hasher.verify(row.password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            self._failed(username, row.failed_logins + 1, now)
        if self._hasher.check_needs_rehash(row.password_hash):
            new_hash = self._hasher.hash(password)
        else:
            new_hash = row.password_hash
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        expires = now + self.session_ttl_s * 1000
        with self.engine.begin() as conn:
            conn.execute(
                update(web_account)
                .where(web_account.c.username == username)
                .values(failed_logins=0, locked_until=None, last_login=now, password_hash=new_hash)
            )
            conn.execute(delete(web_session).where(web_session.c.expires_at < now))
            conn.execute(
                insert(web_session).values(
                    token_hash=_digest(token),
                    username=username,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=expires,
                )
            )
        self.audit(username, "login", username, "")
        return WebSession(token, username, Role(row.role), csrf, expires)

    def _failed(self, username: str, failures: int, now: int) -> NoReturn:
        locked = failures >= self.max_failures
        values: dict[str, object] = {"failed_logins": 0 if locked else failures}
        if locked:
            values["locked_until"] = now + self.lockout_s * 1000
        with self.engine.begin() as conn:
            conn.execute(update(web_account).where(web_account.c.username == username).values(**values))
        if locked:
            _logger.warning(
                "account %s locked for %d s after %d wrong passwords", username, self.lockout_s, failures
            )
            self.audit(username, "account.locked", username, f"{failures} wrong passwords")
            raise LoginRefused(
                "this account is now locked after repeated wrong passwords",
                f"try again in {self.lockout_s // 60} min, or ask an operator",
                locked=True,
            )
        self.audit(username, "login.failed", username, f"failure {failures} of {self.max_failures}")
        raise LoginRefused(_BAD_LOGIN, "check both and try again")

    def unlock(self, username: str, *, actor: str) -> None:
        """Clear a lockout."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(web_account)
                .where(web_account.c.username == username)
                .values(failed_logins=0, locked_until=None)
            )
        if result.rowcount == 0:
            raise UserError(
                f"there is no user {username!r}", "check the name with `kiosk-central users list`"
            )
        self.audit(actor, "account.unlock", username, "")

    # --- sessions --------------------------------------------------------------------------------

    def session(self, token: str) -> WebSession | None:
        """The live session of a cookie value, or None."""
        if not token:
            return None
        query = (
            select(web_session, web_account.c.role)
            .join(web_account, web_account.c.username == web_session.c.username)
            .where(web_session.c.token_hash == _digest(token))
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None or row.expires_at <= self._now():
            return None
        return WebSession(token, row.username, Role(row.role), row.csrf_token, row.expires_at)

    def logout(self, token: str) -> None:
        """End a session."""
        with self.engine.begin() as conn:
            conn.execute(delete(web_session).where(web_session.c.token_hash == _digest(token)))

    # --- audit log -------------------------------------------------------------------------------

    def audit(self, actor: str, action: str, target: str = "", detail: str = "") -> None:
        """Record a privileged action (never a password or personal data)."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(audit_log).values(
                    ts=self._now(), actor=actor, action=action, target=target[:128], detail=detail
                )
            )
        _logger.info("audit: %s %s %s", actor, action, target)

    def audit_entries(self, limit: int = 200) -> list[AuditEntry]:
        """The latest audit entries, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)).all()
        return [AuditEntry(r.id, r.ts, r.actor, r.action, r.target, r.detail) for r in rows]
