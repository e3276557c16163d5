"""Languages of the resident-facing pages of the central (procedure guide, queue status page, board).

Residents read these pages on their own phones in any of the nine kiosk languages, so they have their own
gettext domain `resident` (`locale/<lang>/LC_MESSAGES/resident.po`, msgid = the English text, `%(name)s`
placeholders), compiled in memory with Babel like the staff domain (`i18n.py`). The staff pages' language
(`mdg_lang`, ja/en) is not touched.

A page's language is `?lang=` when it is one of the nine, else the `mdg_resident_lang` cookie, else the best
of Accept-Language, else Japanese (`resident_language`). `ResidentText(lang)` is what resident templates call `t` (the staff domain has `_`).
"""

from __future__ import annotations

import functools
import gettext
import io
import logging
from importlib import resources

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from madoguchi.contracts.languages import DEFAULT_LANGUAGE, LANGUAGE_NAMES, LANGUAGES

__all__ = [
    "DOMAIN",
    "LANGUAGE_NAMES",
    "RESIDENT_COOKIE",
    "ResidentText",
    "accept_language_choice",
    "msgids",
    "resident_gettext",
    "resident_language",
    "resident_pgettext",
]

_logger = logging.getLogger(__name__)

DOMAIN = "resident"
RESIDENT_COOKIE = "mdg_resident_lang"
_ALIASES = {"fil": "tl", "tl": "tl", "zh": "zh", "ko": "ko", "vi": "vi", "pt": "pt", "ne": "ne", "en": "en"}


def _po_path(language: str) -> resources.abc.Traversable:
    return resources.files("central_broker.web") / "locale" / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def _translations(language: str) -> gettext.NullTranslations:
    try:
        with _po_path(language).open("rb") as source:
            catalog = read_po(source, locale=language.split("-")[0])
    except FileNotFoundError:
        _logger.warning("no resident texts for %s; English msgids are shown", language)
        return gettext.NullTranslations()
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@functools.cache
def msgids(language: str) -> frozenset[str]:
    """The msgids `language`'s catalog translates, `<msgctxt>\x04<msgid>` when they have a context."""
    with _po_path(language).open("rb") as source:
        return frozenset(
            f"{m.context}\x04{m.id}" if m.context else m.id
            for m in read_po(source)
            if isinstance(m.id, str) and m.id and m.string
        )


def resident_gettext(language: str, message: str, **values: object) -> str:
    """`message` in `language` (one of the nine; else Japanese), `%(name)s` placeholders filled."""
    if not message:
        return message  # gettext("") would be the catalog's header
    text = _translations(language if language in LANGUAGES else DEFAULT_LANGUAGE).gettext(message)
    return text % values if values else text


def resident_pgettext(language: str, context: str, message: str, **values: object) -> str:
    """`message` of `context` (e.g. `status.waiting`) in `language`, placeholders filled."""
    text = _translations(language if language in LANGUAGES else DEFAULT_LANGUAGE).pgettext(context, message)
    return text % values if values else text


class ResidentText:
    """The `t` of a resident page: `t("Floor %(floor)s", floor=2)` in the page's language."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE

    def __call__(self, message: str, **values: object) -> str:
        """`message` translated and filled in."""
        return resident_gettext(self.language, message, **values)


def accept_language_choice(accept_language: str | None) -> str | None:
    """The best of the nine languages in an Accept-Language header (quality, then order), or None."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag == "ja-x-easy":
            found: str | None = tag
        elif tag.split("-")[0] == "ja":
            found = "ja"
        else:
            found = _ALIASES.get(tag.split("-")[0])
        if found is not None and quality > 0:
            ranked.append((-quality, index, found))
    return min(ranked)[2] if ranked else None


def resident_language(
    query: str | None, cookie: str | None = None, accept_language: str | None = None
) -> str:
    """`query` when it is one of the nine languages, else `cookie` when it is, else the best of
    Accept-Language, else Japanese."""
    for choice in (query, cookie):
        if choice in LANGUAGES:
            return choice
    return accept_language_choice(accept_language) or DEFAULT_LANGUAGE
