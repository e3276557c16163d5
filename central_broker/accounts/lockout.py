"""Lockout per (client address, typed user name): wrong passwords in a row lock that pair, not the account.

A real name and a name that does not exist are counted alike, so the lockout never tells which names
exist; and an attacker's wrong passwords lock the account only on the attacker's computer, so the real
user can still sign in from theirs. The state is in the database (`web_login_lock`), so a lockout
survives a restart and `kiosk-central users unlock` (another process) can end it. Pairs quiet for
longer than the lockout are forgotten, which also bounds the table when names are sprayed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update

from central_broker.accounts.schema import web_login_lock

__all__ = ["KEY_LENGTH", "LockState", "LoginLocks"]

_logger = logging.getLogger(__name__)

KEY_LENGTH = 64  # client addresses and typed names are cut to the column width


@dataclass(frozen=True)
class LockState:
    """Wrong passwords in a row for one (client, name) pair, and until when it is locked (epoch ms)."""

    failures: int
    locked_until: int | None

    def locked(self, now_ms: int) -> bool:
        """Whether the pair is locked at `now_ms`."""
        return self.locked_until is not None and self.locked_until > now_ms


class LoginLocks:
    """Reads and writes `web_login_lock` inside the caller's transaction.

    Args:
        max_failures: wrong passwords in a row before the pair is locked.
        lockout_s: how long a locked pair stays locked; also how long a quiet pair is remembered.
    """

    def __init__(self, max_failures: int, lockout_s: int) -> None:
        self.max_failures = max_failures
        self.lockout_s = lockout_s

    @staticmethod
    def _key(client: str, username: str) -> tuple[str, str]:
        return client[:KEY_LENGTH] or "-", username[:KEY_LENGTH]

    def state(self, conn: Connection, client: str, username: str, now_ms: int) -> LockState:
        """The pair's failures still remembered at `now_ms` (0 when it was quiet for a lockout length)."""
        key_client, key_name = self._key(client, username)
        row = conn.execute(
            select(web_login_lock).where(
                web_login_lock.c.client == key_client, web_login_lock.c.username == key_name
            )
        ).first()
        if row is None or self._forgotten(row.last_failure, row.locked_until, now_ms):
            return LockState(0, None)
        return LockState(row.failures, row.locked_until)

    def _forgotten(self, last_failure: int, locked_until: int | None, now_ms: int) -> bool:
        quiet = last_failure <= now_ms - self.lockout_s * 1000
        return quiet and (locked_until is None or locked_until <= now_ms)

    def fail(self, conn: Connection, client: str, username: str, now_ms: int) -> LockState:
        """Count a wrong password for the pair; locks it when it reaches `max_failures` (then starts over).

        Raises:
            IntegrityError: another transaction inserted the pair first (run the transaction again).
        """
        previous = self.state(conn, client, username, now_ms)
        failures = previous.failures + 1
        until = now_ms + self.lockout_s * 1000 if failures >= self.max_failures else None
        values = {"failures": 0 if until else failures, "last_failure": now_ms, "locked_until": until}
        key_client, key_name = self._key(client, username)
        where = and_(web_login_lock.c.client == key_client, web_login_lock.c.username == key_name)
        if conn.execute(update(web_login_lock).where(where).values(**values)).rowcount == 0:
            # Two requests inserting the same new pair at once: the loser's IntegrityError ends its
            # transaction; the caller runs it again (it then finds the row).
            conn.execute(insert(web_login_lock).values(client=key_client, username=key_name, **values))
        self._prune(conn, now_ms)
        return LockState(failures, until)

    def _prune(self, conn: Connection, now_ms: int) -> None:
        quiet_since = now_ms - self.lockout_s * 1000
        conn.execute(
            delete(web_login_lock).where(
                web_login_lock.c.last_failure <= quiet_since,
                or_(web_login_lock.c.locked_until.is_(None), web_login_lock.c.locked_until <= now_ms),
            )
        )

    def clear(self, conn: Connection, client: str, username: str) -> None:
        """Forget the pair (after a right password from that client)."""
        key_client, key_name = self._key(client, username)
        conn.execute(
            delete(web_login_lock).where(
                web_login_lock.c.client == key_client, web_login_lock.c.username == key_name
            )
        )

    def clear_user(self, conn: Connection, username: str) -> int:
        """Forget every pair of a user name (an operator's unlock); returns how many computers were locked."""
        return int(
            conn.execute(
                delete(web_login_lock).where(web_login_lock.c.username == username[:KEY_LENGTH])
            ).rowcount
        )

    @staticmethod
    def locked_until(conn: Connection, now_ms: int) -> dict[str, int]:
        """User name → the latest end of a lockout still running on some computer."""
        rows = conn.execute(
            select(web_login_lock.c.username, func.max(web_login_lock.c.locked_until))
            .where(web_login_lock.c.locked_until > now_ms)
            .group_by(web_login_lock.c.username)
        ).all()
        return {name: int(until) for name, until in rows}
