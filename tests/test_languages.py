"""Languages and LocalizedText: Japanese required, unknown codes refused, fallback to Japanese."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from madoguchi.contracts.languages import DEFAULT_LANGUAGE, LANGUAGES, LocalizedText, ShortLocalizedText


def test_tier_1_languages_in_picker_order() -> None:
    assert LANGUAGES == ("ja", "ja-x-easy", "en", "zh", "ko", "vi", "pt", "tl", "ne")
    assert DEFAULT_LANGUAGE == "ja"


def test_missing_language_falls_back_to_japanese() -> None:
    text = LocalizedText.of("住民票の写し", en="Certificate of Residence")
    assert text.text("en") == "Certificate of Residence"
    assert text.text("en-US") == "Certificate of Residence"
    assert text.text("vi") == "住民票の写し"
    assert text.text("ja-x-easy") == "住民票の写し"
    assert text.text("fr") == "住民票の写し"


def test_easy_japanese_is_its_own_language() -> None:
    text = LocalizedText.of("住民票", ja_x_easy="じゅうみんひょう")
    assert text.text("ja-x-easy") == "じゅうみんひょう"
    assert text.has("ja-x-easy") and not text.has("en")


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ({"en": "Residence"}, "Japanese text ('ja') is required"),
        ({"ja": "住民票", "fr": "Résidence"}, "Input should be 'ja'"),
        ({"ja": "   "}, "should match pattern"),
    ],
)
def test_bad_texts_are_refused(value: dict[str, str], words: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(words)):
        LocalizedText.model_validate(value)


def test_short_text_limits_every_language_to_100_characters() -> None:
    ShortLocalizedText.model_validate({"ja": "あ" * 100})
    with pytest.raises(ValidationError, match="en has 101"):
        ShortLocalizedText.model_validate({"ja": "短い", "en": "x" * 101})
