"""Completeness of the catalogs: message ids found in the source vs. what each language's `.po` translates.

Message ids are extracted (Babel) from `kiosk_app/**.py` (`N_("…")`, `tr("…")`, the screens' `t("…")`) and `**.kv`
(`tr("…")`). A language is complete when every id has a non-fuzzy translation using exactly the
`{fields}` of the English text. やさしい日本語 may add `{漢字|かんじ}` readings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from babel.messages.extract import extract_from_dir

from kiosk_app.i18n.catalogs import load_po, locale_root
from kiosk_app.i18n.translator import PARAMETER
from madoguchi.contracts.languages import LANGUAGES

__all__ = ["REQUIRED_COMPLETE", "LanguageReport", "completeness", "source_keys"]

REQUIRED_COMPLETE = LANGUAGES  # every tier-1 language (kiosk-requirements.md §7, R-35)
_KV_CALL = re.compile(r"""\btr\(\s*(['"])([^'"\\]+)\1""")


def _extract_kv(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extractor for Kivy `.kv` files: finds `tr("key")` calls."""
    for lineno, line in enumerate(fileobj.read().decode("utf-8").splitlines(), start=1):
        for match in _KV_CALL.finditer(line):
            yield lineno, "tr", match.group(2), []


def package_root() -> Path:
    """The `kiosk_app` folder (source of the message ids)."""
    return locale_root().parent.parent


def source_keys(root: Path | None = None) -> dict[str, list[str]]:
    """Message id → places (`file:line`) where the source uses it."""
    base = root or package_root()
    method_map: list[tuple[str, Any]] = [
        ("i18n/locale/**", "ignore"),
        ("**.py", "python"),
        ("**.kv", _extract_kv),
    ]
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(base), method_map=method_map, keywords={"N_": None, "tr": None, "t": None}, comment_tags=()
    ):
        if isinstance(message, str):
            found.setdefault(message, []).append(f"{filename}:{lineno}")
    return found


def _fields(text: str) -> set[str]:
    return set(PARAMETER.findall(text))


@dataclass(frozen=True)
class LanguageReport:
    """How far one language's catalog covers the source."""

    language: str
    total: int
    translated: int
    missing: tuple[str, ...]
    fuzzy: tuple[str, ...]
    unused: tuple[str, ...]
    wrong_fields: tuple[str, ...]
    furigana: int

    @property
    def percent(self) -> float:
        """Share of ids translated, 0–100."""
        return round(100.0 * self.translated / self.total, 1) if self.total else 100.0

    @property
    def complete(self) -> bool:
        """Every id translated, none fuzzy, every `{field}` as in English."""
        return not self.missing and not self.fuzzy and not self.wrong_fields

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "language": self.language,
            "total": self.total,
            "translated": self.translated,
            "percent": self.percent,
            "complete": self.complete,
            "missing": list(self.missing),
            "fuzzy": list(self.fuzzy),
            "unused": list(self.unused),
            "wrong_fields": list(self.wrong_fields),
            "furigana": self.furigana,
        }


def completeness(
    languages: Iterable[str] = LANGUAGES, *, keys: Iterable[str] | None = None, locale: Path | None = None
) -> list[LanguageReport]:
    """A report per language against the source's message ids (or `keys`)."""
    wanted = sorted(set(keys) if keys is not None else set(source_keys()))
    english = load_po("en", locale)
    reports = []
    for language in languages:
        catalog = load_po(language, locale)
        translated, missing, fuzzy, wrong, furigana = 0, [], [], [], 0
        for key in wanted:
            message = catalog.get(key)
            text = message.string if message is not None and isinstance(message.string, str) else ""
            if not text.strip():
                missing.append(key)
                continue
            if message is not None and message.fuzzy:
                fuzzy.append(key)
                continue
            reference = english.get(key)
            if (
                reference is not None
                and isinstance(reference.string, str)
                and _fields(reference.string) != _fields(text)
            ):
                wrong.append(key)
            translated += 1
            furigana += "|" in text and "{" in text
        unused = sorted(str(m.id) for m in catalog if m.id and m.id not in set(wanted))
        reports.append(
            LanguageReport(
                language,
                len(wanted),
                translated,
                tuple(missing),
                tuple(fuzzy),
                tuple(unused),
                tuple(wrong),
                furigana,
            )
        )
    return reports
