"""Small helpers shared by the catalog checks: duplicate ids and references to known ids, as `CatalogIssue`s."""

from __future__ import annotations

from collections.abc import Iterable

from madoguchi.contracts.catalog_base import CatalogIssue

__all__ = ["duplicates", "reference"]


def duplicates(path: str, ids: Iterable[str], issues: list[CatalogIssue]) -> None:
    """One issue per id of `path` that an earlier entry already uses."""
    seen: dict[str, int] = {}
    for index, item_id in enumerate(ids):
        if item_id in seen:
            issues.append(
                CatalogIssue(
                    f"{path}[{index}].id",
                    f"duplicate id {item_id!r} (also {path}[{seen[item_id]}])",
                    "give every entry its own id",
                )
            )
        else:
            seen[item_id] = index


def reference(
    path: str, value: str | None, known: Iterable[str], what: str, issues: list[CatalogIssue]
) -> None:
    """An issue when `value` is set and not one of `known` (the hint lists them)."""
    known = list(known)
    if value is not None and value not in known:
        issues.append(
            CatalogIssue(
                path, f"unknown {what} {value!r}", f"use one of: {', '.join(known) or '(none defined)'}"
            )
        )
