"""`Translator`: resident-facing text in one language with a fallback chain, from the gettext catalogs.

Fallbacks: やさしい日本語 → 日本語; English → 日本語; other languages → English → 日本語, so a
scaffolded language never shows a bare key. Parameters are `{name}` fields (`{fee}`), filled by `fill()`.
`explain()` (error screens) shows plain Japanese and English together when the language lacks a text;
`tr_count()` picks a count-aware form (`copies.count.one` for "1 copy") by the language's CLDR plural rule.
"""

from __future__ import annotations

import functools
import gettext
import logging
import re
from collections.abc import Mapping
from pathlib import Path

from babel import Locale

from kiosk_app.i18n.catalogs import load_translations
from kiosk_app.i18n.ruby import plain
from madoguchi.contracts.languages import LANGUAGES

__all__ = ["PARAMETER", "Translator", "fallback_chain", "fill", "plural_form"]

_logger = logging.getLogger(__name__)

PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def fallback_chain(language: str) -> tuple[str, ...]:
    """The languages tried in order for `language`."""
    if language == "ja":
        return ("ja",)
    if language in ("ja-x-easy", "en"):
        return (language, "ja")
    return (language, "en", "ja")


@functools.cache
def plural_form(language: str, count: int) -> str:
    """The CLDR plural category of `count` in `language` (`one`, `other` ...); やさしい日本語 as Japanese."""
    return str(Locale.parse(language.split("-", 1)[0]).plural_form(abs(count)))


class Translator:
    """Translate message ids for one language; unknown ids come back unchanged (and are logged once)."""

    def __init__(self, language: str, root: Path | None = None) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}; use one of {', '.join(LANGUAGES)}")
        self.language = language
        chain = [load_translations(code, root) for code in fallback_chain(language)]
        # Each catalog alone (no fallback) to ask whether one language itself has a text.
        self._alone = {code: load_translations(code, root) for code in (*fallback_chain(language), "en")}
        self._translations: gettext.GNUTranslations = chain[0]
        for extra in chain[1:]:
            self._translations.add_fallback(extra)
        self._missing: set[str] = set()

    @property
    def furigana(self) -> bool:
        """True when texts may carry `{漢字|かんじ}` readings (やさしい日本語)."""
        return self.language == "ja-x-easy"

    def tr(self, key: str, **params: object) -> str:
        """The text of `key`, with `{name}` fields filled from `params`; ruby markup kept for ja-x-easy."""
        text = self._translations.gettext(key)
        if text == key and key not in self._missing:
            self._missing.add(key)
            _logger.warning("no translation for %r in any of %s", key, fallback_chain(self.language))
        if not self.furigana:
            text = plain(text)
        return fill(text, params) if params else text

    def has(self, key: str, language: str | None = None) -> bool:
        """True when `language` (default: this translator's) itself has a text for `key`."""
        catalog = self._alone.get(language or self.language) or load_translations(language or self.language)
        return catalog.gettext(key) != key

    def count_key(self, key: str, count: int) -> str:
        """The id to show `key` for `count`: `<key>.<category>` when the language has that form (`.one`)."""
        category = plural_form(self.language, count)
        form = f"{key}.{category}"
        return form if category != "other" and self.has(form) else key

    def tr_count(self, key: str, count: int, **params: object) -> str:
        """`key` for a number (`copies.count.one` "1 copy" or `copies.count` "2 copies")."""
        return self.tr(self.count_key(key, count), **params)

    def explain(self, key: str, **params: object) -> str:
        """For error screens: the text in this language, else plain Japanese and English (never a key)."""
        if self.has(key) or self.language in ("ja", "ja-x-easy", "en"):
            return self.tr(key, **params)
        texts = []
        for language in ("ja", "en"):
            if self.has(key, language):
                texts.append(fill(plain(self._alone[language].gettext(key)), params))
        if not texts:
            return self.tr(key, **params)
        return "\n".join(dict.fromkeys(texts))


def fill(text: str, params: Mapping[str, object]) -> str:
    """Replace `{name}` fields (ASCII names) by `params`; furigana `{漢字|かんじ}` and unknown fields stay."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(params[name]) if name in params else match.group(0)

    return PARAMETER.sub(value, text)
