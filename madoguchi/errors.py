"""Errors that reach a person at a command line: what is wrong and what to do about it."""

from __future__ import annotations

__all__ = ["ConfigError", "UserError"]


class UserError(Exception):
    """A problem the person running a command can fix; printed without a traceback.

    Args:
        message: what is wrong, naming the thing (file, key, value) concerned.
        hint: what to do about it.
    """

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  fix: {self.hint}" if self.hint else self.message


class ConfigError(UserError):
    """A configuration or catalog file that cannot be used as it is."""
