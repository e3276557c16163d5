"""What a new catalog changes in the procedure guide, shown to operators before they publish it.

The guide (`Catalog.procedures`) and the ticket categories are compared entry by entry, by id: entries added,
removed, and for a changed entry each changed field with the languages whose text changed (a field that is
not text, e.g. a route or a floor, is shown as before → after). Pure functions; the CLI and the web render
the result.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.languages import LANGUAGES

__all__ = ["FieldChange", "GuideChange", "GuideDiff", "diff_guides"]

# Parts compared, in the order they are shown: (label, attribute path from the catalog).
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("life_events", ("procedures", "life_events")),
    ("questions", ("procedures", "questions")),
    ("procedures", ("procedures", "procedures")),
    ("counters", ("procedures", "counters")),
    ("departments", ("procedures", "departments")),
    ("queue_categories", ("queue", "categories")),
)
_SHOWN_MAX = 80


@dataclass(frozen=True)
class FieldChange:
    """One changed field of an entry: the languages whose text changed, or the value before and after."""

    field: str
    languages: tuple[str, ...] = ()
    before: str | None = None  # for fields that are not text (route, floor, conditions …)
    after: str | None = None

    def text(self) -> str:
        """`deadline (en, vi)` or `route: 4 → 3`."""
        if self.languages:
            return f"{self.field} ({', '.join(self.languages)})"
        return f"{self.field}: {self.before or '—'} → {self.after or '—'}"


@dataclass(frozen=True)
class GuideChange:
    """An entry added, removed or changed."""

    part: str  # one of the PARTS labels
    kind: str  # added | removed | changed
    id: str
    name: str  # the entry's Japanese name or text (the new one, unless removed)
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class GuideDiff:
    """Every change between two catalogs' guides, with their versions."""

    old_version: int | None
    new_version: int
    changes: tuple[GuideChange, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        """True when the guide and ticket categories are unchanged."""
        return not self.changes

    def languages(self) -> tuple[str, ...]:
        """Languages with a changed text in some changed entry (added/removed entries count for all)."""
        found = {lang for c in self.changes for f in c.fields for lang in f.languages}
        return tuple(lang for lang in LANGUAGES if lang in found)

    def counts(self) -> dict[str, dict[str, int]]:
        """`{part: {"added": n, "removed": n, "changed": n}}` for the parts that changed."""
        counts: dict[str, dict[str, int]] = {}
        for change in self.changes:
            per_part = counts.setdefault(change.part, {"added": 0, "removed": 0, "changed": 0})
            per_part[change.kind] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (CLI `--json`)."""
        return {
            "old_version": self.old_version,
            "new_version": self.new_version,
            "counts": self.counts(),
            "languages": list(self.languages()),
            "changes": [
                {
                    "part": c.part,
                    "kind": c.kind,
                    "id": c.id,
                    "name": c.name,
                    "fields": [
                        {
                            "field": f.field,
                            "languages": list(f.languages),
                            "before": f.before,
                            "after": f.after,
                        }
                        for f in c.fields
                    ],
                }
                for c in self.changes
            ],
        }

    def lines(self) -> list[str]:
        """Plain-text lines, one per change (for the CLI)."""
        old = "nothing published" if self.old_version is None else f"version {self.old_version}"
        head = f"guide changes from {old} to version {self.new_version}:"
        if self.empty:
            return [f"{head} none"]
        out = [head]
        mark = {"added": "+", "removed": "-", "changed": "~"}
        for c in self.changes:
            fields = f": {'; '.join(f.text() for f in c.fields)}" if c.fields else ""
            out.append(f"  {mark[c.kind]} {c.part} {c.id} ({c.name}){fields}")
        return out


def _entries(catalog: Catalog | None, path: tuple[str, ...]) -> dict[str, BaseModel]:
    if catalog is None:
        return {}
    node: Any = catalog
    for attribute in path:
        node = getattr(node, attribute)
    return {entry.id: entry for entry in node}


def _name(entry: BaseModel) -> str:
    for attribute in ("names", "text"):
        text = getattr(entry, attribute, None)
        if text is not None:
            return str(text.text("ja"))
    return str(getattr(entry, "id", ""))


def _leaves(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(path, scalar) pairs of a JSON value; a language key ends its path (`documents[1].names.en`)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list) and value and any(isinstance(v, dict | list) for v in value):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{prefix}[{index}]")
    else:
        yield prefix, value


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list) and all(
        isinstance(v, dict) and set(v) == {"question", "answer"} for v in value
    ):
        text = ", ".join(f"{v['question']}={v['answer']}" for v in value) or "none"
    else:
        text = value if isinstance(value, str) else str(value)
    return text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 1] + "…"


def _field_change(name: str, before: Any, after: Any) -> FieldChange | None:
    if before == after:
        return None
    old, new = dict(_leaves(before)), dict(_leaves(after))
    languages = {
        path.rsplit(".", 1)[-1]
        for path in old.keys() | new.keys()
        if old.get(path) != new.get(path) and path.rsplit(".", 1)[-1] in LANGUAGES
    }
    other = [
        path
        for path in old.keys() | new.keys()
        if old.get(path) != new.get(path) and path.rsplit(".", 1)[-1] not in LANGUAGES
    ]
    if languages and not other:
        return FieldChange(name, tuple(lang for lang in LANGUAGES if lang in languages))
    return FieldChange(name, before=_shown(before), after=_shown(after))


def _changed_fields(old: BaseModel, new: BaseModel) -> tuple[FieldChange, ...]:
    before, after = old.model_dump(mode="json"), new.model_dump(mode="json")
    found = (_field_change(name, before.get(name), after.get(name)) for name in {**before, **after})
    return tuple(change for change in found if change is not None)


def _part_changes(label: str, old: dict[str, BaseModel], new: dict[str, BaseModel]) -> list[GuideChange]:
    changes = [GuideChange(label, "added", i, _name(e)) for i, e in new.items() if i not in old]
    changes += [GuideChange(label, "removed", i, _name(e)) for i, e in old.items() if i not in new]
    for entry_id, entry in new.items():
        if entry_id in old and old[entry_id] != entry:
            fields = _changed_fields(old[entry_id], entry)
            if fields:
                changes.append(GuideChange(label, "changed", entry_id, _name(entry), fields))
    return changes


def diff_guides(old: Catalog | None, new: Catalog, parts: Sequence[str] = ()) -> GuideDiff:
    """The guide changes from `old` (None: nothing published yet, so everything is added) to `new`."""
    changes: list[GuideChange] = []
    for label, path in PARTS:
        if not parts or label in parts:
            changes += _part_changes(label, _entries(old, path), _entries(new, path))
    return GuideDiff(None if old is None else old.version, new.version, tuple(changes))
