"""Languages the resident-facing text comes in, and `LocalizedText`: one text per language, Japanese required.

Tier-1 languages of kiosk-requirements.md §7: 日本語, やさしい日本語 (`ja-x-easy`, Japanese with furigana-
friendly wording), English, 简体中文, 한국어, Tiếng Việt, Português, Filipino, नेपाली.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self, get_args

from pydantic import ConfigDict, RootModel, StringConstraints, model_validator

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "LanguageCode",
    "LocalizedText",
    "ShortLocalizedText",
    "is_language",
]

LanguageCode = Literal["ja", "ja-x-easy", "en", "zh", "ko", "vi", "pt", "tl", "ne"]

# In the order a language picker lists them.
LANGUAGES: tuple[LanguageCode, ...] = get_args(LanguageCode)
DEFAULT_LANGUAGE: LanguageCode = "ja"
# Each language written in itself (language pickers on the kiosk and the resident pages), in `LANGUAGES` order.
LANGUAGE_NAMES: dict[LanguageCode, str] = {
    "ja": "日本語",
    "ja-x-easy": "やさしい にほんご",
    "en": "English",
    "zh": "简体中文",
    "ko": "한국어",
    "vi": "Tiếng Việt",
    "pt": "Português",
    "tl": "Filipino",
    "ne": "नेपाली",
}

SHORT_TEXT_MAX = 100

# A text must contain something other than white space.
Text = Annotated[str, StringConstraints(min_length=1, max_length=4000, pattern=r"\S")]


def is_language(code: str) -> bool:
    """True when `code` is one of `LANGUAGES`."""
    return code in LANGUAGES


class LocalizedText(RootModel[dict[LanguageCode, Text]]):
    """A resident-facing text keyed by language code; `ja` is required, unknown codes are refused."""

    model_config = ConfigDict(frozen=True, json_schema_extra={"required": [DEFAULT_LANGUAGE]})

    @model_validator(mode="after")
    def _japanese_required(self) -> Self:
        if DEFAULT_LANGUAGE not in self.root:
            raise ValueError(f"a Japanese text ({DEFAULT_LANGUAGE!r}) is required; add it")
        return self

    def text(self, language: str = DEFAULT_LANGUAGE) -> str:
        """The text in `language`, falling back to Japanese when that language is missing."""
        found = self.root.get(language)  # type: ignore[call-overload]
        if found is None and "-" in language and language != "ja-x-easy":
            found = self.root.get(language.split("-", 1)[0])  # type: ignore[call-overload]
        return str(found) if found is not None else self.root[DEFAULT_LANGUAGE]

    def has(self, language: str) -> bool:
        """True when the text exists in `language` itself (no fallback)."""
        return language in self.root

    @classmethod
    def of(cls, ja: str, **others: str) -> Self:
        """Build from keyword arguments; `ja_x_easy=` stands for `ja-x-easy`."""
        texts = {"ja": ja, **{key.replace("_", "-"): value for key, value in others.items()}}
        return cls.model_validate(texts)


class ShortLocalizedText(LocalizedText):
    """A `LocalizedText` of at most 100 characters in every language (procedure summaries)."""

    @model_validator(mode="after")
    def _short(self) -> Self:
        long = [f"{lang} has {len(text)}" for lang, text in self.root.items() if len(text) > SHORT_TEXT_MAX]
        if long:
            raise ValueError(
                f"at most {SHORT_TEXT_MAX} characters per language ({', '.join(long)}); shorten it"
            )
        return self
