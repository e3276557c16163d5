"""Branches a web account works at: counter staff act only at counters of their own branches.

One row per (account, branch) in `web_account_branch`. Operators (the central's administrators) work at
every branch whatever the table says; auditors work at none; staff at the branches listed for them.

Migration: the table is new and starts empty, so an account made before it has no branch. Operators keep
working at every branch; staff work at none until an operator assigns one with
`kiosk-central users branches NAME --add BRANCH` (the counter page tells them that exact command, and
`kiosk-central users list` flags staff without a branch). Nothing opens a counter for someone by guess.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from sqlalchemy import Connection, delete, insert, select

from central_broker.accounts.models import Role
from central_broker.accounts.schema import web_account_branch
from madoguchi.errors import UserError

__all__ = ["MAX_BRANCH_LENGTH", "assigned_branches", "branch_name", "may_work_at", "write_branches"]

MAX_BRANCH_LENGTH = 64  # as `queue_visit.branch` and `kiosk_state.branch`


def branch_name(value: str) -> str:
    """A branch name as typed, trimmed.

    Raises:
        UserError: empty, longer than 64 characters, or with control characters.
    """
    name = value.strip()
    if not name or len(name) > MAX_BRANCH_LENGTH or any(unicodedata.category(c) == "Cc" for c in name):
        raise UserError(
            f"branch name {value!r} is not allowed",
            f"give the branch as the kiosks report it (1-{MAX_BRANCH_LENGTH} characters), e.g. 本庁舎",
        )
    return name


def may_work_at(role: Role, branches: Iterable[str], branch: str) -> bool:
    """Whether an account of `role` assigned `branches` may work a counter at `branch`."""
    if role is Role.OPERATOR:
        return True
    return role is Role.STAFF and branch in set(branches)


def assigned_branches(conn: Connection, username: str | None = None) -> dict[str, tuple[str, ...]]:
    """User name → its branches, sorted (one user when `username` is given)."""
    query = select(web_account_branch.c.username, web_account_branch.c.branch)
    if username is not None:
        query = query.where(web_account_branch.c.username == username)
    found: dict[str, list[str]] = {}
    for name, branch in conn.execute(query).all():
        found.setdefault(name, []).append(branch)
    return {name: tuple(sorted(branches)) for name, branches in found.items()}


def write_branches(
    conn: Connection, username: str, add: Iterable[str] = (), remove: Iterable[str] = ()
) -> tuple[str, ...]:
    """Add and remove branches of `username` inside the caller's transaction; returns its branches now."""
    current = set(assigned_branches(conn, username).get(username, ()))
    gone = {branch_name(b) for b in remove} & current
    new = {branch_name(b) for b in add} - current
    if gone:
        conn.execute(
            delete(web_account_branch).where(
                (web_account_branch.c.username == username) & web_account_branch.c.branch.in_(gone)
            )
        )
    for branch in sorted(new):
        conn.execute(insert(web_account_branch).values(username=username, branch=branch))
    return tuple(sorted((current - gone) | new))
