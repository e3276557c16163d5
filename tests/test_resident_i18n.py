"""Resident texts of the central web (`resident` gettext domain): nine languages, every text in each."""

from __future__ import annotations

import pytest

from central_broker.web.resident_i18n import msgids, resident_gettext, resident_language
from madoguchi.contracts.languages import LANGUAGES


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_every_resident_text(language: str) -> None:
    """GIVEN the Japanese resident catalog WHEN another language's catalog is read THEN it translates the very
    same msgids, none missing and none extra, so no resident page falls back to English text."""
    reference = msgids("ja")
    assert reference, "the Japanese resident catalog is empty"
    found = msgids(language)
    assert not reference - found, f"{language} lacks {sorted(reference - found)[:5]}"
    assert not found - reference, f"{language} has msgids Japanese lacks: {sorted(found - reference)[:5]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_survive_translation(language: str) -> None:
    """GIVEN a text with a placeholder WHEN it is shown in any language THEN the value appears in it."""
    assert "7" in resident_gettext(language, "Floor %(floor)s", floor=7)
    assert "12" in resident_gettext(language, "Counter %(number)s", number="12")


def test_language_comes_from_query_then_cookie_then_accept_language_then_japanese() -> None:
    """GIVEN the three sources WHEN they disagree THEN ?lang= wins, then the cookie, then Accept-Language."""
    assert resident_language("ne", "vi", "ko") == "ne"
    assert resident_language("xx", "vi", "ko") == "vi"
    assert resident_language(None, None, "fil-PH, en;q=0.5") == "tl"
    assert resident_language(None, None, "fr-FR") == "ja"
    assert resident_gettext("ja-x-easy", "Yes") == "はい"
