"""Tables of the web accounts (accounts, sessions, audit log), on the central store's database.

Own `MetaData`, so the fleet store's schema stays its own; `create_all` on the same engine.
Times are epoch milliseconds of the central clock.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, Text

__all__ = ["audit_log", "metadata", "web_account", "web_account_branch", "web_login_lock", "web_session"]

metadata = MetaData()

web_account = Table(
    "web_account",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(256), nullable=False),  # argon2id, never the password
    Column("failed_logins", Integer, nullable=False, default=0),  # unused since per-computer lockout
    Column("locked_until", BigInteger, nullable=True),  # unused since per-computer lockout
    Column("created_at", BigInteger, nullable=False),
    Column("last_login", BigInteger, nullable=True),
)

# Branches an account works at (counter pages); none for accounts made before it (see `accounts.branches`).
web_account_branch = Table(
    "web_account_branch",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("branch", String(64), primary_key=True),
)

web_session = Table(
    "web_session",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # SHA-256 of the cookie value
    Column("username", String(64), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)

# Wrong passwords per (client address, typed user name), whether or not the name exists: the lockout is
# per computer, so nobody can lock a real account out for everyone (see `accounts.lockout`).
web_login_lock = Table(
    "web_login_lock",
    metadata,
    Column("client", String(64), primary_key=True),
    Column("username", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure", BigInteger, nullable=False),
    Column("locked_until", BigInteger, nullable=True),
    Index("ix_web_login_lock_username", "username"),
    Index("ix_web_login_lock_last_failure", "last_failure"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts", BigInteger, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(128), nullable=False, default=""),
    Column("detail", Text, nullable=False, default=""),
    Index("ix_audit_log_ts", "ts"),
)
