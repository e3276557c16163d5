"""Texts of the resident-facing queue pages (the status page `/q/<token>` in the nine kiosk languages) and of
the display board (Japanese and English side by side).

The texts live in the resident gettext domain (`locale/<lang>/LC_MESSAGES/resident.po`, `resident_i18n`),
each with the context `status.<key>` or `board.<key>` and its English text as msgid. This module keeps the
key-based view the pages use: `status_text(lang, key, **values)`, and `STATUS_TEXTS` / `BOARD_TEXTS`
(language → key → text, read from the catalogs on first use) with `{name}` placeholders filled by
`str.format`. The language is `?lang=` when it is one of the nine, else the best of Accept-Language, else
Japanese.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping

from central_broker.web.resident_i18n import LANGUAGE_NAMES, resident_pgettext
from central_broker.web.resident_i18n import resident_language as _resident_language
from madoguchi.contracts.languages import DEFAULT_LANGUAGE, LANGUAGES

__all__ = ["BOARD_TEXTS", "LANGUAGE_NAMES", "STATUS_TEXTS", "resident_language", "status_text"]

# key → msgid (the English text, `%(name)s` placeholders) of the status page
_STATUS = {
    "title": "Your number",
    "number": "Number",
    "counter": "Counter %(number)s (%(name)s)",
    "floor": "floor %(floor)s",
    "waiting": "Please wait for %(counter)s, %(floor)s.",
    "next": "Next: %(counter)s, %(floor)s. Please wait near that counter.",
    "called": "You are being called at %(counter)s, %(floor)s. Please come to the counter.",
    "serving": "You are being served at %(counter)s.",
    "done": "All your procedures are done. Thank you.",
    "cancelled": "This number was cancelled. Please ask at reception.",
    "ahead": "People ahead of you: %(n)s",
    "range": "Estimated wait: about %(low)s–%(high)s min",
    "range_note": "An estimate: it may be shorter or longer.",
    "then": "Counters still to come",
    "live": "This page updates by itself.",
    "reconnecting": "Connection lost. Reconnecting…",
    "not_found_title": "Number not found",
    "not_found": "This ticket is not valid or has expired (a ticket is valid on the day it is issued). "
    "Please ask at reception.",
    "too_many": "Too many requests. Please wait a minute, then open the page again.",
    "unavailable": "The number status cannot be shown right now. Please ask at reception.",
    "language": "Language",
}

# key → msgid of the display board (shown in Japanese and English)
_BOARD = {
    "title": "Now calling",
    "now": "Now calling",
    "recent": "Numbers called",
    "counter": "Counter %(number)s",
    "announce": "Number %(number)s, please come to counter %(counter)s.",
    "none": "No number is being called",
    "sound": "Touch the screen to turn on the chime and announcements",
    "reconnecting": "Reconnecting…",
}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
BOARD_LANGUAGES = ("ja", "en")


@functools.cache
def _table(prefix: str, language: str) -> dict[str, str]:
    msgids = _STATUS if prefix == "status" else _BOARD
    return {
        key: _PLACEHOLDER.sub(r"{\1}", resident_pgettext(language, f"{prefix}.{key}", msgid))
        for key, msgid in msgids.items()
    }


class _Texts(Mapping[str, dict[str, str]]):
    """Language → key → text (`{name}` placeholders), read from the resident catalogs on first use."""

    def __init__(self, prefix: str, languages: tuple[str, ...]) -> None:
        self._prefix = prefix
        self._languages = languages

    def __getitem__(self, language: str) -> dict[str, str]:
        if language not in self._languages:
            raise KeyError(language)
        return _table(self._prefix, language)

    def __iter__(self) -> Iterator[str]:
        return iter(self._languages)

    def __len__(self) -> int:
        return len(self._languages)


STATUS_TEXTS: Mapping[str, dict[str, str]] = _Texts("status", LANGUAGES)
# The display board speaks and shows Japanese and English side by side (kiosk-requirements §5: voice + monitor).
BOARD_TEXTS: Mapping[str, dict[str, str]] = _Texts("board", BOARD_LANGUAGES)


def status_text(language: str, key: str, **values: object) -> str:
    """The status page's text `key` in `language` (Japanese when missing), placeholders filled."""
    table = STATUS_TEXTS.get(language) or STATUS_TEXTS[DEFAULT_LANGUAGE]
    text = table.get(key) or STATUS_TEXTS[DEFAULT_LANGUAGE][key]
    return text.format(**values) if values else text


def resident_language(query: str | None, accept_language: str | None) -> str:
    """`query` when it is one of the nine languages, else the best of Accept-Language, else Japanese."""
    return _resident_language(query, None, accept_language)
