"""The sample catalog speaks every kiosk language: no resident-facing text falls back to Japanese."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from madoguchi.contracts.catalog import load_sample_catalog, sample_catalog_path
from madoguchi.contracts.languages import LANGUAGES


def _texts(node: Any, pointer: str = "") -> Iterator[tuple[str, dict[str, str]]]:
    if isinstance(node, dict):
        if "ja" in node and all(isinstance(value, str) for value in node.values()):
            yield pointer, node
            return
        for key, value in node.items():
            yield from _texts(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _texts(value, f"{pointer}/{index}")


def test_every_text_of_the_sample_catalog_is_in_every_kiosk_language() -> None:
    """GIVEN the shipped sample catalog WHEN every localized text is read THEN each has all nine languages,
    none of them empty, and the catalog still validates."""
    load_sample_catalog()
    data = json.loads(sample_catalog_path().read_text(encoding="utf-8"))
    texts = list(_texts(data))
    assert len(texts) > 200
    lacking = {
        pointer: sorted(set(LANGUAGES) - {lang for lang, text in text_of.items() if text.strip()})
        for pointer, text_of in texts
    }
    assert {pointer: langs for pointer, langs in lacking.items() if langs} == {}


def test_foreign_texts_are_not_copies_of_the_japanese() -> None:
    """GIVEN the sample catalog WHEN a foreign-language text is compared with the Japanese THEN it differs
    (a copied Japanese text is an untranslated one), apart from proper nouns such as URLs."""
    data = json.loads(sample_catalog_path().read_text(encoding="utf-8"))
    copied = [
        (pointer, lang)
        for pointer, text_of in _texts(data)
        for lang in ("en", "zh", "ko", "vi", "pt", "tl", "ne")
        if text_of.get(lang) == text_of["ja"] and not text_of["ja"].isascii()
    ]
    assert copied == []
