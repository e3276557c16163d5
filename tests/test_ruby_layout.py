"""Furigana layout (`ui.ruby_layout`, no Kivy) and the やさしい日本語 texts: every kanji has its reading."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest

from device_drivers.printer.strings import STRINGS, translations
from kiosk_app.i18n.catalogs import load_po
from kiosk_app.i18n.report import completeness
from kiosk_app.ui.ruby_layout import Placed, RubyLayout, layout_ruby, markup_chars

_RUBY = re.compile(r"\{([^{}|]+)\|([^{}|]+)\}")
_KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ffff々]")
_KANA = re.compile(r"[\u3041-\u309f\u30a0-\u30ffー]+")


def measure(text: str, font: str, size: float) -> tuple[float, float]:
    """Monospaced stand-in: every character one `size` wide (half for ASCII), 1.25 `size` tall."""
    return sum(size / 2 if ord(c) < 128 else size for c in text), size * 1.25


def lay(markup: str, width: float | None = None, halign: str = "left") -> RubyLayout:
    return layout_ruby(markup, font="UI", size=20, measure=measure, width=width, halign=halign)


def lines(layout: RubyLayout) -> list[str]:
    """The text of each line (bases and plain runs, readings left out)."""
    rows: dict[float, list[Placed]] = {}
    for item in layout.items:
        if item.role != "reading":
            rows.setdefault(round(item.top + item.height), []).append(item)
    return ["".join(i.text for i in sorted(row, key=lambda i: i.x)) for _top, row in sorted(rows.items())]


def test_reading_is_centred_above_its_word() -> None:
    """GIVEN {職員|しょくいん}を WHEN laid out THEN the reading (half size) sits on the band above the word, centred,
    and overhangs the following kana by at most one reading character."""
    layout = lay("{職員|しょくいん}を {呼|よ}ぶ")
    (base, reading) = layout.words()[0]
    word, kana = base[0], reading[0]
    assert kana.size == 10 and kana.top + kana.height <= word.top
    assert kana.x + kana.width / 2 == pytest.approx(word.x + word.width / 2)
    assert kana.x >= 0 and kana.x + kana.width <= word.x + word.width + 10  # over を, by half its excess
    assert layout.height == pytest.approx(12.5 + 25)
    ((word,), (kana,)) = lay("{数字|すうじ}の").words()[0]
    assert (
        kana.x + kana.width / 2 == word.x + word.width / 2 and word.x <= kana.x
    )  # narrower: inside the word


def test_lines_break_at_spaces_and_never_inside_a_word_with_reading() -> None:
    """GIVEN 分かち書き text narrower than the line WHEN wrapped THEN lines break at spaces; a long stretch without
    spaces breaks between characters but not before 。 and never inside {暗証番号|…}."""
    assert lines(lay("{暗証番号|あんしょうばんごう}を {忘|わす}れた {人|ひと}", width=130)) == [
        "暗証番号を",
        "忘れた 人",
    ]
    assert lines(lay("あいう{暗証番号|あんしょうばんごう}です。", width=130)) == [
        "あいう",
        "暗証番号で",
        "す。",
    ]
    assert lines(lay("あいうえ\nお")) == ["あいうえ", "お"]
    assert lines(lay("OK Google", width=40)) == ["OK", "Google"]


def test_halign_centres_and_right_aligns_each_line() -> None:
    """GIVEN a 100 px line WHEN halign is center or right THEN the line's runs move by half or all of the slack."""
    left = lay("{字|じ}を", width=100).items
    centred = lay("{字|じ}を", width=100, halign="center").items
    right = lay("{字|じ}を", width=100, halign="right").items
    assert [i.x - j.x for i, j in zip(centred, left, strict=True)] == [30, 30, 30]
    assert [i.x - j.x for i, j in zip(right, left, strict=True)] == [60, 60, 60]
    assert lay("{字|じ}を", width=100).width == 100


def test_font_fallback_runs_and_entities_survive() -> None:
    """GIVEN markup from `Texts.t` (a [font=…] run inside a word, escaped brackets) WHEN parsed THEN each character
    keeps its font and entities become characters."""
    assert markup_chars("[font=CJK]𠮷[/font]田&bl;x&br;", "UI") == [
        ("𠮷", "CJK"), ("田", "UI"), ("[", "UI"), ("x", "UI"), ("]", "UI"),
    ]  # fmt: skip
    layout = lay("{[font=CJK]𠮷[/font]田|よしだ}さん")
    assert [(i.text, i.font, i.role) for i in layout.items] == [
        ("𠮷", "CJK", "base"), ("田", "UI", "base"), ("よしだ", "UI", "reading"), ("さん", "UI", "text"),
    ]  # fmt: skip


def test_easy_japanese_is_complete_with_a_reading_for_every_kanji() -> None:
    """GIVEN the やさしい日本語 catalog WHEN checked THEN it is 100 %, every kanji is inside {漢字|かな} with a kana
    reading, and no reading is written in parentheses."""
    (report,) = completeness(["ja-x-easy"])
    assert report.complete, (report.missing, report.wrong_fields)
    catalog = load_po("ja-x-easy")
    for message in catalog:
        text = message.string if isinstance(message.string, str) else ""
        if not message.id or not text:
            continue
        assert not _KANJI.search(_RUBY.sub("", text)), f"{message.id}: kanji without reading in {text!r}"
        assert all(_KANA.fullmatch(reading) for _base, reading in _RUBY.findall(text)), message.id
        assert not re.search(r"[(（][\u3041-\u309f]+[)）]", text), f"{message.id}: reading in parentheses"


def test_printed_easy_japanese_has_every_key_and_field() -> None:
    """GIVEN strings_ja_x_easy.json WHEN loaded THEN every printed key is there with the fields of the Japanese
    text, in plain text (the printer draws no ruby markup)."""
    easy = translations("ja-x-easy")
    assert set(easy) == set(STRINGS)

    def fields(text: str) -> set[str]:
        return {name for _literal, name, _spec, _conv in string.Formatter().parse(text) if name}

    for key, text in easy.items():
        assert fields(text) == fields(STRINGS[key]["ja"]), key
        assert not _RUBY.search(text), key


def test_catalog_overlay_covers_every_text_lacking_easy_japanese() -> None:
    """GIVEN the sample catalog and .tr/catalog-ja-x-easy.json WHEN merged THEN every localized text has
    ja-x-easy, written as the catalog writes it (kana with spaces, no ruby markup)."""
    overlay_path = Path(".tr/catalog-ja-x-easy.json")
    if not overlay_path.is_file():
        pytest.skip("the translation overlay is a scratch file (.tr/ is not in git)")
    overlay = json.loads(overlay_path.read_text(encoding="utf-8"))
    catalog = json.loads(Path("madoguchi/data/sample_catalog.json").read_text(encoding="utf-8"))
    lacking = []

    def walk(node: object, pointer: str) -> None:
        if isinstance(node, dict):
            if "ja" in node and all(isinstance(v, str) for v in node.values()):
                if "ja-x-easy" not in node:
                    lacking.append(pointer)
                return
            for key, value in node.items():
                walk(value, f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{pointer}/{index}")

    walk(catalog, "")
    assert set(lacking) <= set(overlay)
    assert all(not _KANJI.search(text) and "{" not in text for text in overlay.values())
