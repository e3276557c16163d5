"""The audit log page (auditors), with each entry's detail in the reader's language.

Entries written with values (`AccountStore.audit(..., **values)`) keep their unfilled English text, a msgid
of the web catalog, and are translated when shown; their values are translated too when they are catalog
texts (an order state, a role, a command label). Details written as plain English (entries from before, and
callers that still pass a finished text) are recognised by the patterns below and translated the same way;
anything else is shown as written.
"""

from __future__ import annotations

import contextlib
import logging
import re

from fastapi import APIRouter, Request
from starlette.responses import Response

from central_broker.accounts import AuditEntry, Role
from central_broker.web.context import ctx_of, session_of
from central_broker.web.control_pages import COMMAND_LABELS
from central_broker.web.i18n import gettext_ as _
from central_broker.web.security import require
from madoguchi.contracts.signed import CommandOp

__all__ = ["LEGACY_DETAILS", "audit_detail", "router"]

_logger = logging.getLogger(__name__)

# (action or "" for any, pattern of a plain detail, its msgid with the pattern's groups as placeholders)
LEGACY_DETAILS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("", re.compile(r"unknown user"), "unknown user name"),
    ("", re.compile(r"failure (?P<failures>\d+) of (?P<max>\d+)"), "failure %(failures)s of %(max)s"),
    ("", re.compile(r"(?P<failures>\d+) wrong passwords"), "%(failures)s wrong passwords"),
    ("", re.compile(r"role=(?P<role>\w+)"), "role %(role)s"),
    ("", re.compile(r"(?P<yen>\d+) yen"), "%(yen)s yen"),
    ("", re.compile(r"control version (?P<version>\d+)"), "control version %(version)s"),
    ("command.send", re.compile(r"(?P<command>[a-z_]+) (?P<id>\S+)"), "%(command)s (command %(id)s)"),
)


def _value(name: str, value: str | int) -> str | int:
    """A value as shown: catalog texts translated, a command shown by its label."""
    if not isinstance(value, str):
        return value
    if name == "command":
        with contextlib.suppress(ValueError):  # not a command of this version: shown as written
            value = COMMAND_LABELS.get(CommandOp(value), value)
    return _(value)


def audit_detail(entry: AuditEntry) -> str:
    """An audit entry's detail in the page's language."""
    text, values = entry.text, dict(entry.values)
    if not text:
        for action, pattern, msgid in LEGACY_DETAILS:
            if action in ("", entry.action) and (match := pattern.fullmatch(entry.detail)):
                text, values = msgid, match.groupdict()
                break
        else:
            return _(entry.detail)  # translated when the whole detail is a catalog text (an order state)
    try:
        return _(text, **{k: _value(k, v) for k, v in values.items()})
    except (KeyError, ValueError, TypeError):  # a translation that does not fit the stored values
        _logger.warning("audit entry %s: detail %r does not fit its values", entry.id, text)
        return entry.detail


def router() -> APIRouter:
    """Routes of this module."""
    api = APIRouter()

    @api.get("/audit")
    def audit(request: Request) -> Response:
        require(session_of(request), Role.AUDITOR)
        ctx = ctx_of(request)
        entries = [(e, audit_detail(e)) for e in ctx.accounts.audit_entries(500)]
        return ctx.render(request, "audit.html", entries=entries)

    return api
