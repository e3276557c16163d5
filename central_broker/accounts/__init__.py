"""Local web accounts of the central: roles, argon2 password hashes, lockout, sessions, audit log."""

from __future__ import annotations

from central_broker.accounts.models import Account, AuditEntry, LoginRefused, Role, WebSession
from central_broker.accounts.store import MIN_PASSWORD_LENGTH, AccountStore

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "Account",
    "AccountStore",
    "AuditEntry",
    "LoginRefused",
    "Role",
    "WebSession",
]
