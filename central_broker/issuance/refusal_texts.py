"""Built-in refusal texts: a reason and where to go for every refusal kind in every kiosk language (R-06, R-35).

The table lives in `refusal_texts.json` next to this module (package data), is read once on first use and is
checked then: every `RuleKind`, every kind the service refuses on its own (`GENERIC_KINDS`) and `default`, each
in every language of `LANGUAGES`. The texts name no counter, floor or city, so they fit any municipality; the
catalog's own rule texts come first (`choose`), these stand in for a language a rule lacks.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from importlib import resources
from typing import Self, cast

from pydantic import BaseModel, ConfigDict, model_validator

from madoguchi.contracts.catalog_hours import WeeklyHours
from madoguchi.contracts.catalog_rules import RuleKind
from madoguchi.contracts.languages import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    LanguageCode,
    LocalizedText,
    is_language,
)

__all__ = [
    "DEFAULT_KIND",
    "GENERIC_KINDS",
    "BuiltinRefusal",
    "builtin_refusal",
    "choose",
    "extra_text",
    "hours_text",
    "resident_language",
]

_logger = logging.getLogger(__name__)

DEFAULT_KIND = "default"
# Refusals that come from the service itself, not from a catalog rule kind.
GENERIC_KINDS = ("not_available", "not_resident", "no_seal", "certificate_revoked")
_EASY: LanguageCode = "ja-x-easy"


class BuiltinRefusal(BaseModel):
    """The built-in reason and where-to-go texts of one refusal kind."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: LocalizedText
    where_to_go: LocalizedText


class _Table(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    refusals: dict[str, BuiltinRefusal]
    weekdays: dict[LanguageCode, tuple[str, str, str, str, str, str, str]]

    @model_validator(mode="after")
    def _complete(self) -> Self:
        kinds = {DEFAULT_KIND, *GENERIC_KINDS, *(kind.value for kind in RuleKind)}
        problems = [f"kind {kind!r} is missing" for kind in sorted(kinds - self.refusals.keys())]
        for kind, texts in self.refusals.items():
            for field in ("reason", "where_to_go"):
                text: LocalizedText = getattr(texts, field)
                missing = [lang for lang in LANGUAGES if not text.has(lang)]
                if missing:
                    problems.append(f"{kind}.{field} lacks {', '.join(missing)}")
        missing_days = [lang for lang in LANGUAGES if lang not in self.weekdays]
        if missing_days:
            problems.append(f"weekdays lack {', '.join(missing_days)}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


@functools.cache
def _table() -> _Table:
    data = resources.files(__package__).joinpath("refusal_texts.json").read_bytes()
    return _Table.model_validate_json(data)


def builtin_refusal(kind: str) -> BuiltinRefusal:
    """The built-in texts of `kind` (those of `default` for a kind the table does not know)."""
    refusals = _table().refusals
    return refusals.get(kind) or refusals[DEFAULT_KIND]


def resident_language(language: str) -> LanguageCode:
    """`language` as one of `LANGUAGES`: itself, its base (`en-US` → `en`), else Japanese."""
    normalized = language.replace("_", "-").lower()
    for candidate in (normalized, normalized.split("-", 1)[0]):
        if is_language(candidate):
            return cast(LanguageCode, candidate)
    return DEFAULT_LANGUAGE


def choose(own: LocalizedText | None, builtin: LocalizedText, language: str) -> str:
    """The catalog's text when it exists in `language` itself, else the built-in one, else the catalog's Japanese."""
    lang = resident_language(language)
    if own is not None and own.has(lang):
        return own.text(lang)
    if builtin.has(lang):
        return builtin.text(lang)
    return (own or builtin).text(DEFAULT_LANGUAGE)


def extra_text(texts: Mapping[str, str], language: str) -> str:
    """An added text (e.g. the operator's kill-switch message) in `language`, or "" when it lacks that language.

    やさしい日本語 readers get the Japanese text when there is no easy one; other languages get nothing rather
    than Japanese (the refusal's reason and where-to-go already say it in their language).
    """
    lang = resident_language(language)
    found = texts.get(lang) or (texts.get(DEFAULT_LANGUAGE) if lang in (DEFAULT_LANGUAGE, _EASY) else None)
    return found or ""


def hours_text(label: LocalizedText, weekly: WeeklyHours, language: str) -> str:
    """The hours to show: the catalog's label in `language`, else built from `weekly` (`Mon–Fri 08:30–17:00`)."""
    lang = resident_language(language)
    if label.has(lang):
        return label.text(lang)
    names = _table().weekdays[lang]
    runs: list[tuple[int, int, str]] = []
    for day in range(7):
        windows = ", ".join(str(w) for w in weekly.windows_on(day))
        if runs and windows and runs[-1][2] == windows and runs[-1][1] == day - 1:
            runs[-1] = (runs[-1][0], day, windows)
        elif windows:
            runs.append((day, day, windows))
    parts = [
        f"{names[first]}{'' if first == last else '–' + names[last]} {windows}"
        for first, last, windows in runs
    ]
    return "; ".join(parts)
