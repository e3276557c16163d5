"""Which branch's counters a signed-in account may work, and the page that says no (403).

Staff work the counters of the branches their account is assigned (`kiosk-central users branches NAME --add
BRANCH`); operators work every branch. Every counter route checks the chosen counter's branch: the page, its
live fragment, choosing a counter and every action. A refusal is a 403 page that names the
branches the account belongs to and the exact command an operator runs to add the branch (or, for an
account with no branch yet, to assign one), plus a link to choose a counter of an own branch.
"""

from __future__ import annotations

import logging
import shlex

from fastapi import Request
from starlette.responses import Response

from central_broker.accounts import Role, WebSession
from central_broker.accounts.branches import may_work_at
from central_broker.web.context import ctx_of

__all__ = ["account_branches", "branch_denied", "denied_page"]

_logger = logging.getLogger(__name__)


def account_branches(request: Request, session: WebSession) -> tuple[str, ...]:
    """The branches the signed-in account works at (read once per request; operators: none listed)."""
    if "mdg_branches" not in request.scope:
        request.scope["mdg_branches"] = ctx_of(request).accounts.branches_of(session.username)
    found: tuple[str, ...] = request.scope["mdg_branches"]
    return found


def denied_page(request: Request, session: WebSession, branch: str | None) -> Response:
    """403: the account may not work counters of `branch` (None: of any branch, it has none)."""
    mine = account_branches(request, session)
    target = branch if branch is not None else "BRANCH"
    command = f"kiosk-central users branches {shlex.quote(session.username)} --add {shlex.quote(target)}"
    _logger.info(
        "%s refused the counters of %s (works at %s)", session.username, branch, ", ".join(mine) or "-"
    )
    return ctx_of(request).render(
        request,
        "queue_counter_denied.html",
        status_code=403,
        branch=branch,
        mine=mine,
        command=command,
    )


def branch_denied(request: Request, session: WebSession, branch: str | None) -> Response | None:
    """The 403 page when the account may not work at `branch` (None: may it work anywhere?), else None."""
    if session.role is Role.OPERATOR:
        return None
    mine = account_branches(request, session)
    if branch is None:
        return None if mine else denied_page(request, session, None)
    return None if may_work_at(session.role, mine, branch) else denied_page(request, session, branch)
