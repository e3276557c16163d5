"""Turn catalog validation failures into `CatalogIssue`s (field path, problem, value, fix) and `CatalogInvalid`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from madoguchi.contracts.catalog_base import CatalogIssue, CatalogIssues
from madoguchi.errors import ConfigError

__all__ = ["CatalogInvalid", "format_path", "issues_from_validation"]

SCHEMA_HINT = "see docs/schemas/catalog-v1/catalog.schema.json"
_HINTS = {
    "missing": "add this field",
    "extra_forbidden": "remove this key or correct its spelling",
    "literal_error": "use one of the values listed",
    "enum": "use one of the values listed",
    "greater_than_equal": "use a value within the allowed range",
    "less_than_equal": "use a value within the allowed range",
    "greater_than": "use a value within the allowed range",
    "string_pattern_mismatch": "write it in the required form",
    "too_short": "add at least the required number of entries",
    "int_type": "write a whole number without quotes",
    "date_from_datetime_parsing": "write a date as YYYY-MM-DD",
    "timezone_aware": "add the zone offset, e.g. 2026-05-10T01:00:00+09:00",
}


def format_path(loc: Sequence[int | str]) -> str:
    """`('certificate_types', 2, 'fees', 1)` → `certificate_types[2].fees[1]`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not out:
            out += part
        else:
            out += f".{part}"
    return out or "(top level)"


def _shown(value: Any) -> str:
    if isinstance(value, dict | list):
        return ""
    text = repr(value)
    return f" (got {text[:77] + '...' if len(text) > 80 else text})"


def issues_from_validation(exc: ValidationError) -> list[CatalogIssue]:
    """One issue per pydantic error; a cross-field `CatalogIssues` error is expanded into its issues."""
    issues: list[CatalogIssue] = []
    for err in exc.errors():
        cause = err.get("ctx", {}).get("error")
        if isinstance(cause, CatalogIssues):
            issues.extend(cause.issues)
            continue
        message = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        hint = _HINTS.get(err["type"], "")
        loc = err["loc"]
        if loc and loc[-1] == "[key]":  # a dictionary key, e.g. a language code that is not ours
            loc, message = loc[:-1], f"key not allowed: {message}"
        issues.append(CatalogIssue(format_path(loc), message + _shown(err.get("input")), hint))
    return issues


class CatalogInvalid(ConfigError):
    """A catalog that cannot be used; `issues` lists every problem found, each naming its field path."""

    def __init__(self, source: str, issues: Sequence[CatalogIssue]) -> None:
        self.source = source
        self.issues = tuple(issues)
        lines = [f"catalog {source} is not valid ({len(self.issues)} problem(s)):"]
        lines += [f"  - {issue}" for issue in self.issues]
        super().__init__("\n".join(lines), f"correct the catalog ({SCHEMA_HINT}) and validate it again")
