"""Values of the accounts package: roles, accounts, sessions, audit entries and refusals."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from madoguchi.errors import UserError

__all__ = ["Account", "AuditEntry", "LoginRefused", "Role", "WebSession"]


class Role(enum.StrEnum):
    """What a person may do in the central web."""

    OPERATOR = "operator"  # fleet, commands, catalog, kill switch, KPIs, orders
    STAFF = "staff"  # counter staff: payment orders, and the queue counters of their branches
    AUDITOR = "auditor"  # reads the audit log and KPIs; changes nothing


@dataclass(frozen=True)
class Account:
    """A local account (the hash never leaves the accounts store)."""

    username: str
    role: Role
    created_at: int
    last_login: int | None
    locked_until: int | None
    branches: tuple[str, ...] = ()  # where the account works counters (operators: every branch anyway)


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
    """One privileged action.

    `detail` is the English text, filled in. When the entry was written with values, `text` keeps the unfilled
    text (a msgid of the web catalog, `%(name)s` placeholders) and `values` the values, so the audit page shows
    it in its own language; older entries and entries without values have `text` empty.
    """

    id: int
    ts: int
    actor: str
    action: str
    target: str
    detail: str
    text: str = ""
    values: tuple[tuple[str, str | int], ...] = ()


class LoginRefused(UserError):
    """A sign-in that did not succeed; `locked` when the user name is locked out on this computer.

    `message` and `hint` may hold `%(name)s` placeholders filled from `values`; the unfilled `text` and
    `hint_text` are kept so the sign-in page can show them in its own language (msgids of the web catalog).
    """

    def __init__(self, message: str, hint: str, *, locked: bool = False, **values: object) -> None:
        super().__init__(message % values if values else message, hint % values if values else hint)
        self.locked = locked
        self.text = message
        self.hint_text = hint
        self.values = values
