"""Slips in every kiosk language: every printed text is translated, every glyph is drawn, and lines break
where a reader of that language expects (between words, never inside a letter and its marks).

The real rasterizer with the installed fonts; the job goes as ESC/POS bytes to the virtual printer.
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Callable

import pytest

from device_drivers.printer import encode_job, profile_for
from device_drivers.printer.profiles import PrinterProfile
from device_drivers.printer.raster import MARGIN, RasterRenderer
from device_drivers.printer.samples import SAMPLE_KINDS, sample_document
from device_drivers.printer.strings import STRINGS, translations
from madoguchi.contracts.languages import LANGUAGES
from tests.fixtures.printing import VirtualPrinter

StartPrinter = Callable[[PrinterProfile], VirtualPrinter]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_printed_text_exists_in_every_language_with_its_placeholders(language: str) -> None:
    """GIVEN the printed strings WHEN looked up in each kiosk language THEN every key has its own text (no
    Japanese fallback) with exactly the placeholders of the Japanese text."""
    texts = translations(language)
    missing = sorted(set(STRINGS) - set(texts))
    assert missing == [], f"{language} lacks {missing}"

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    wrong = [key for key, text in texts.items() if fields(text) != fields(STRINGS[key]["ja"])]
    assert wrong == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_sample_slip_prints_in_every_language(virtual_printer_for: StartPrinter, language: str) -> None:
    """GIVEN each sample slip in `language` WHEN printed on a 58 mm printer THEN it prints (no glyph missing,
    Devanagari included) and comes off as one cut job."""
    from device_drivers.printer import ReceiptPrinter

    profile = profile_for("generic-58")
    virtual = virtual_printer_for(profile)
    printer = ReceiptPrinter(virtual.url, timeout=2.0)
    try:
        for kind in SAMPLE_KINDS:
            job = encode_job(sample_document(kind, language), profile)
            assert printer.print_job(job, kind).outcome.value == "printed"
        assert len(virtual.jobs()) == len(SAMPLE_KINDS)
    finally:
        printer.close()


def _renderer() -> tuple[RasterRenderer, int]:
    return RasterRenderer(384), 24


@pytest.mark.parametrize(
    "text",
    [
        "Emitido por um órgão público municipal: não é necessário selo fiscal (収入印紙).",
        "Do cơ quan chính quyền địa phương phát hành nên không cần dán tem thuế (収入印紙).",
        "지방 공공 단체가 발행하는 영수증이므로 수입인지(収入印紙)가 필요하지 않습니다.",
        "स्थानीय सरकारी निकायले जारी गरेको रसिद भएकाले राजस्व टिकट आवश्यक पर्दैन।",
    ],
)
def test_words_written_with_spaces_break_only_at_spaces(text: str) -> None:
    """GIVEN a Portuguese, Vietnamese, Korean or Nepali sentence WHEN wrapped at 58 mm THEN every line
    ends at a space: joining the lines with spaces gives the sentence back, and every line fits."""
    renderer, size = _renderer()
    lines = renderer.wrap(text, size, False)
    assert len(lines) > 1
    assert " ".join(lines) == text
    room = renderer.width - 2 * MARGIN
    assert all(renderer.text_width(line, size, False) <= room for line in lines)


def test_a_long_nepali_word_is_never_split_inside_a_grapheme() -> None:
    """GIVEN a Devanagari run longer than the paper WHEN wrapped THEN no line starts with a vowel sign or
    mark, and none ends with a virama (a conjunct stays whole)."""
    renderer, size = _renderer()
    word = "क्षत्रियप्रमाणपत्रस्वीकृतिसम्बन्धीनिर्देशिका" * 2
    lines = renderer.wrap(word, size, False)
    assert len(lines) > 1 and "".join(lines) == word
    for line in lines:
        assert not unicodedata.category(line[0]).startswith("M")
        assert not unicodedata.name(line[-1]).endswith("VIRAMA")


def test_japanese_still_wraps_between_any_two_characters() -> None:
    """GIVEN a Japanese sentence with a space near its start WHEN wrapped THEN the first line is filled
    (not cut at the space) and the text is kept whole."""
    renderer, size = _renderer()
    text = "お待ちの方 地方公共団体が作成する領収書のため収入印紙は不要です。窓口でお受け取りください。"
    lines = renderer.wrap(text, size, False)
    assert "".join(lines) == text
    room = renderer.width - 2 * MARGIN
    assert renderer.text_width(lines[0], size, False) > room * 0.8
