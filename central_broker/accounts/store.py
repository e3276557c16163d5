"""Local web accounts: argon2id password hashes, lockout, server-side sessions and the audit log.

Lockout (`accounts.lockout`): after `max_failures` wrong passwords in a row from one computer (client
address) for one typed user name, that pair is locked for `lockout_s` seconds; while locked even the
right password from that computer is refused, but the same account still signs in from another
computer, so an attacker cannot lock a real user out. A name that does not exist is counted and locked
the same way and gets the same answers after a hash check of the same cost, so nothing tells whether a
name exists. (The web adds per-client throttling on top, `web.ratelimit.LoginGate`.) Sessions are
random tokens kept as SHA-256 in the database (a stolen database holds no usable cookie) and expire
after `session_ttl_s`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import secrets
import time
from collections.abc import Callable
from typing import NoReturn

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from central_broker.accounts.branches import assigned_branches, write_branches
from central_broker.accounts.lockout import LoginLocks
from central_broker.accounts.models import Account, AuditEntry, LoginRefused, Role, WebSession
from central_broker.accounts.schema import audit_log, metadata, web_account, web_session
from madoguchi.errors import UserError

__all__ = ["MIN_PASSWORD_LENGTH", "AccountStore"]

_logger = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 10
_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
_BAD_LOGIN = "wrong user name or password"
_JSON_DETAIL = '{"text": '  # an audit detail stored with its values
# A real hash to verify against when the user does not exist, so both cases take the same time.
_DUMMY_PASSWORD = "not-a-real-password"  # noqa: S105 - only used to equalise timing


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountStore:
    """Accounts, sessions and the audit log on the central database.

    Args:
        engine: the central store's engine (same database URL).
        clock: seconds since the Unix epoch.
        max_failures: wrong passwords in a row from one computer before that computer is locked out.
        lockout_s: how long a (computer, user name) pair stays locked.
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
        self._locks = LoginLocks(max_failures, lockout_s)

    def create_schema(self) -> None:
        """Create missing tables (idempotent)."""
        metadata.create_all(self.engine)

    def _now(self) -> int:
        return int(self._clock() * 1000)

    # --- accounts --------------------------------------------------------------------------------

    def add_user(
        self, username: str, password: str, role: Role, *, actor: str = "cli", branches: tuple[str, ...] = ()
    ) -> Account:
        """Create an account working at `branches` (see `accounts.branches`).

        Raises:
            UserError: bad user name, short password, bad branch name, or the name is taken.
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
            assigned = write_branches(conn, username, add=branches)
        self.audit(actor, "user.add", username, "role %(role)s", role=role.value)
        if assigned:
            self.audit(
                actor, "user.branches", username, "branches %(branches)s", branches=", ".join(assigned)
            )
        return Account(username, role, now, None, None, assigned)

    def users(self) -> list[Account]:
        """Every account, by name (`locked_until`: the latest lockout still running on some computer)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(web_account).order_by(web_account.c.username)).all()
            locked = self._locks.locked_until(conn, self._now())
            branches = assigned_branches(conn)
        return [
            Account(
                r.username,
                Role(r.role),
                r.created_at,
                r.last_login,
                locked.get(r.username),
                branches.get(r.username, ()),
            )
            for r in rows
        ]

    def branches_of(self, username: str) -> tuple[str, ...]:
        """The branches `username` works at (empty: none assigned, or no such user)."""
        with self.engine.connect() as conn:
            return assigned_branches(conn, username).get(username, ())

    def change_branches(
        self, username: str, *, add: tuple[str, ...] = (), remove: tuple[str, ...] = (), actor: str
    ) -> tuple[str, ...]:
        """Add and remove branches of an account (audited); returns its branches now.

        Raises:
            UserError: no such user, or a bad branch name.
        """
        with self.engine.begin() as conn:
            if not conn.execute(
                select(web_account.c.username).where(web_account.c.username == username)
            ).first():
                raise UserError(
                    f"there is no user {username!r}", "check the name with `kiosk-central users list`"
                )
            now = write_branches(conn, username, add=add, remove=remove)
        self.audit(actor, "user.branches", username, "branches %(branches)s", branches=", ".join(now) or "-")
        return now

    # --- sign-in ---------------------------------------------------------------------------------

    def _verify_dummy(self, password: str) -> None:
        with contextlib.suppress(VerificationError, InvalidHashError):
            self._hasher.verify(self._dummy(), password)

    def _dummy(self) -> str:
        if not self._dummy_hash:
            self._dummy_hash = self._hasher.hash(_DUMMY_PASSWORD)
        return self._dummy_hash

    def login(self, username: str, password: str, *, client: str = "local") -> WebSession:
        """Check a password from `client` (its address) and open a session.

        A name that does not exist goes through the same steps as a real one: a password hash is verified
        (a dummy one), the wrong password is counted for the (client, name) pair, and the pair is locked
        after `max_failures` in a row, so neither the answer nor its timing tells whether the name exists.

        Raises:
            LoginRefused: wrong name or password, or the name is locked on this client (`locked=True`).
        """
        self._dummy()  # made before the first check, so the first unknown name is not slower
        now = self._now()
        with self.engine.connect() as conn:
            row = conn.execute(select(web_account).where(web_account.c.username == username)).first()
            lock = self._locks.state(conn, client, username, now)
        if lock.locked(now):
            assert lock.locked_until is not None
            self.audit(
                username[:64] or "-", "login.refused_locked", username, "from %(client)s", client=client
            )
            raise self._locked_refusal(lock.locked_until - now)
        if row is None:
            self._verify_dummy(password)
            self._failed(client, username, now, exists=False)
        try:
            self._hasher.verify(row.password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            self._failed(client, username, now, exists=True)
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
            self._locks.clear(conn, client, username)
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
        self.audit(username, "login", username, "from %(client)s", client=client)
        return WebSession(token, username, Role(row.role), csrf, expires)

    def _locked_refusal(self, remaining_ms: int) -> LoginRefused:
        return LoginRefused(
            "this user name is locked on this computer after repeated wrong passwords",
            "try again in %(minutes)s min, or ask an operator",
            locked=True,
            minutes=max(1, (remaining_ms + 59_999) // 60_000),
        )

    def _failed(self, client: str, username: str, now: int, *, exists: bool) -> NoReturn:
        for attempt in range(2):
            try:
                with self.engine.begin() as conn:
                    lock = self._locks.fail(conn, client, username, now)
                break
            except IntegrityError:
                if attempt:
                    raise
        actor = username[:64] or "-"
        if lock.locked_until is not None:
            _logger.warning(
                "sign-in as %r from %s locked for %d s after %d wrong passwords",
                username[:64],
                client,
                self.lockout_s,
                lock.failures,
            )
            self.audit(
                actor,
                "account.locked",
                username,
                "locked on %(client)s for %(minutes)s min after %(failures)s wrong passwords"
                if exists
                else "unknown user name; locked on %(client)s for %(minutes)s min after %(failures)s tries",
                client=client,
                minutes=self.lockout_s // 60,
                failures=lock.failures,
            )
            raise self._locked_refusal(self.lockout_s * 1000)
        self.audit(
            actor,
            "login.failed",
            username,
            "failure %(failures)s of %(max)s from %(client)s"
            if exists
            else "unknown user name; failure %(failures)s of %(max)s from %(client)s",
            client=client,
            failures=lock.failures,
            max=self.max_failures,
        )
        raise LoginRefused(_BAD_LOGIN, "check both and try again")

    def unlock(self, username: str, *, actor: str) -> None:
        """End the lockout of `username` on every computer."""
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
            computers = self._locks.clear_user(conn, username)
        self.audit(actor, "account.unlock", username, "locked on %(n)s computers", n=computers)

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

    def audit(self, actor: str, action: str, target: str = "", detail: str = "", **values: str | int) -> None:
        """Record a privileged action (never a password or personal data).

        `detail` is English; with `values` it is a text with `%(name)s` placeholders (a msgid of the web
        catalog), kept unfilled with its values so the audit page can show it in the reader's language.
        """
        stored = json.dumps({"text": detail, "values": values}, ensure_ascii=False) if values else detail
        with self.engine.begin() as conn:
            conn.execute(
                insert(audit_log).values(
                    ts=self._now(), actor=actor[:64], action=action, target=target[:128], detail=stored
                )
            )
        _logger.info("audit: %s %s %s", actor, action, target)

    def audit_entries(self, limit: int = 200) -> list[AuditEntry]:
        """The latest audit entries, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)).all()
        return [_entry(r.id, r.ts, r.actor, r.action, r.target, r.detail) for r in rows]


def _entry(id_: int, ts: int, actor: str, action: str, target: str, stored: str) -> AuditEntry:
    """An audit row; a detail stored with values (JSON) is filled in, other details are kept as written."""
    if stored.startswith(_JSON_DETAIL):
        with contextlib.suppress(ValueError, TypeError, KeyError):
            data = json.loads(stored)
            text, values = str(data["text"]), dict(data["values"])
            with contextlib.suppress(KeyError, ValueError, TypeError):
                return AuditEntry(id_, ts, actor, action, target, text % values, text, tuple(values.items()))
            return AuditEntry(id_, ts, actor, action, target, text, text, tuple(values.items()))
    return AuditEntry(id_, ts, actor, action, target, stored)
