"""Values of the accounts package: roles, accounts, sessions, audit entries and refusals."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from madoguchi.errors import UserError

__all__ = ["Account", "AuditEntry", "LoginRefused", "Role", "WebSession"]


class Role(enum.StrEnum):
    """What a person may do in the central web."""

    OPERATOR = "operator"  # fleet, commands, catalog, kill switch, KPIs, orders
    STAFF = "staff"  # counter staff: payment orders only
    AUDITOR = "auditor"  # reads the audit log and KPIs; changes nothing


@dataclass(frozen=True)
class Account:
    """A local account (the hash never leaves the accounts store)."""

    username: str
    role: Role
    created_at: int
    last_login: int | None
    locked_until: int | None


@dataclass(frozen=True)
class WebSession:
    """A signed-in browser: who, and the CSRF token its forms must carry."""

    token: str
    username: str
    role: Role
    csrf_token: str
    expires_at: int


@dataclass(frozen=True)
class AuditEntry:
    """One privileged action."""

    id: int
    ts: int
    actor: str
    action: str
    target: str
    detail: str


class LoginRefused(UserError):
    """A sign-in that did not succeed; `locked` when the account is locked out."""

    def __init__(self, message: str, hint: str, *, locked: bool = False) -> None:
        super().__init__(message, hint)
        self.locked = locked
