"""Resident-facing translations: Japanese and English complete, the report counts right, furigana, fallbacks."""

from __future__ import annotations

import gettext
import json
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from device_drivers.payment.messages import Phase
from kiosk_app.cli import main
from kiosk_app.i18n import keys
from kiosk_app.i18n.catalogs import locale_root, po_path
from kiosk_app.i18n.report import REQUIRED_COMPLETE, completeness, source_keys
from kiosk_app.i18n.ruby import RubySegment, kivy_markup, parenthesized, parse_ruby, plain
from kiosk_app.i18n.translator import Translator
from kiosk_app.i18n.update import add_missing_keys
from madoguchi.contracts.catalog_rules import PaymentMethodKind
from madoguchi.contracts.languages import LANGUAGES


@pytest.fixture
def locale(tmp_path: Path) -> Path:
    """A private copy of the catalogs that a test may edit."""
    target = tmp_path / "locale"
    shutil.copytree(locale_root(), target)
    return target


def edit_po(locale: Path, language: str, key: str, text: str, *, fuzzy: bool = False) -> None:
    path = po_path(language, locale)
    with path.open("rb") as handle:
        catalog = read_po(handle)
    catalog[key].string = text
    if fuzzy:
        catalog[key].flags.add("fuzzy")
    with path.open("wb") as handle:
        write_po(handle, catalog, width=0)


def test_japanese_and_english_translate_every_message_id_in_the_source() -> None:
    """GIVEN the ids used by the kiosk source WHEN the catalogs are checked THEN ja and en lack none."""
    for report in completeness(REQUIRED_COMPLETE):
        assert report.complete, (
            f"{report.language}: missing {report.missing}, wrong fields {report.wrong_fields}"
        )
        assert report.total >= 100


def test_a_missing_translation_makes_the_check_fail(locale: Path) -> None:
    """GIVEN an English entry emptied WHEN the check runs THEN English is incomplete and names that id."""
    edit_po(locale, "en", "pin.last_try", "")
    (en,) = completeness(["en"], locale=locale)
    assert not en.complete and en.missing == ("pin.last_try",) and en.translated == en.total - 1


def test_report_counts_translated_fuzzy_and_wrong_fields(locale: Path) -> None:
    """GIVEN Korean loses one translation, has another marked fuzzy, and a Japanese text drops its {tries}
    field WHEN reported THEN Korean counts two fewer translated (one missing, one fuzzy) and is incomplete,
    Japanese lists the wrong field."""
    (before,) = completeness(["ko"], locale=locale)
    edit_po(locale, "ko", "pin.title", "")
    edit_po(locale, "ko", "fee.title", "수수료를 확인하세요", fuzzy=True)
    edit_po(locale, "ja", "pin.tries_left", "残りわずか")
    ko, ja = completeness(["ko", "ja"], locale=locale)
    assert ko.translated == before.translated - 2 and ko.fuzzy == ("fee.title",)
    assert ko.missing == ("pin.title",) and not ko.complete
    assert ja.wrong_fields == ("pin.tries_left",) and not ja.complete


def test_cli_report_json_matches_the_catalogs(capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN the shipped catalogs WHEN `kiosk i18n report --json --strict` runs THEN it exits 0 and its counts are
    those of the catalogs: 9 languages, ja/en/ja-x-easy 100 %, the scaffolds partial."""
    assert main(["i18n", "report", "--json", "--strict"]) == 0
    data = json.loads(capsys.readouterr().out)
    by_language = {item["language"]: item for item in data["languages"]}
    assert list(by_language) == list(LANGUAGES)
    total = len(source_keys())
    assert all(item["total"] == total for item in by_language.values())
    assert by_language["ja"]["percent"] == 100.0 and by_language["en"]["complete"]
    for item in by_language.values():
        assert item["translated"] + len(item["missing"]) + len(item["fuzzy"]) == total
    assert by_language["ja-x-easy"]["complete"] and by_language["ja-x-easy"]["furigana"] > total // 2
    assert main(["i18n", "report"]) == 0
    assert "ja-x-easy" in capsys.readouterr().out


def test_update_adds_new_ids_to_every_catalog(locale: Path) -> None:
    """GIVEN a new id in the source WHEN `update` runs THEN each catalog gets an empty entry and ja/en show it missing."""
    wanted = [*source_keys(), "brand.new"]
    added = add_missing_keys(locale, wanted)
    assert all(ids == ["brand.new"] for ids in added.values())
    ja, en = completeness(["ja", "en"], keys=wanted, locale=locale)
    assert ja.missing == ("brand.new",) and en.missing == ("brand.new",)


def test_compiled_catalogs_work_with_plain_gettext(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN `kiosk i18n compile --out DIR` WHEN the stdlib gettext loads DIR THEN Japanese text comes back."""
    assert main(["i18n", "compile", "--out", str(tmp_path)]) == 0
    assert len(list(tmp_path.rglob("kiosk.mo"))) == len(LANGUAGES)
    ja = gettext.translation("kiosk", localedir=tmp_path, languages=["ja"])
    assert ja.gettext("button.call_staff") == "職員を呼ぶ"


def test_translator_fills_fields_and_falls_back(locale: Path) -> None:
    """GIVEN scaffolded languages WHEN an untranslated id is shown THEN English (foreign) or Japanese (easy) appears,
    never the bare id; fields are filled."""
    assert Translator("ja").tr("fee.total", fee=400) == "合計 400円"
    assert Translator("en").tr("pin.tries_left", tries=2) == "Tries left: 2"
    assert Translator("zh").tr("button.call_staff") == "呼叫工作人员"
    edit_po(locale, "zh", "pin.last_try", "")
    assert Translator("zh", locale).tr("pin.last_try").startswith("This is your last try")
    edit_po(locale, "ja-x-easy", "fee.rules", "")
    assert Translator("ja-x-easy", locale).tr("fee.rules") == Translator("ja").tr("fee.rules")


def test_furigana_only_in_easy_japanese() -> None:
    """GIVEN やさしい日本語 WHEN a text with readings is shown THEN the readings are kept (and render as small kana)."""
    easy = Translator("ja-x-easy").tr("pin.tries_left", tries=1)
    assert easy == "あと1{回|かい}"
    assert parenthesized(easy) == "あと1回（かい）"
    assert kivy_markup(easy, font_size=40) == "あと1回[size=22](かい)[/size]"
    assert "{" not in Translator("ja").tr("button.call_staff")


def test_ruby_parsing_and_escaping() -> None:
    """GIVEN a message with two readings and a bracket WHEN parsed and rendered THEN segments and markup are exact."""
    message = "{職員|しょくいん}を[{呼|よ}ぶ]"
    assert parse_ruby(message) == [
        RubySegment("職員", "しょくいん"), RubySegment("を["), RubySegment("呼", "よ"), RubySegment("ぶ]"),
    ]  # fmt: skip
    assert plain(message) == "職員を[呼ぶ]"
    assert (
        kivy_markup(message, font_size=20)
        == "職員[size=11](しょくいん)[/size]を&bl;呼[size=11](よ)[/size]ぶ&br;"
    )


def test_runtime_codes_have_message_ids() -> None:
    """GIVEN the payment terminal phases and payment method kinds WHEN shown THEN each has a declared id."""
    declared = set(keys.KEYS)
    assert {keys.phase_key(p.value) for p in Phase} <= declared
    assert {keys.method_key(k.value) for k in PaymentMethodKind} <= declared
    assert len(declared) == len(keys.KEYS)


def test_every_tier1_language_is_complete_and_strict_fails_on_one_missing_text(
    locale: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN the shipped catalogs WHEN reported THEN all nine tier-1 languages are complete; GIVEN a copy in which
    Nepali lacks the last-PIN-try warning WHEN `kiosk i18n report --strict` checks it THEN it exits 1 and
    lists the missing id."""
    incomplete = {r.language: r.missing for r in completeness() if not r.complete}
    assert incomplete == {}
    edit_po(locale, "ne", "pin.last_try", "")
    assert main(["i18n", "report", "--strict", "--missing", "--locale", str(locale)]) == 1
    out = capsys.readouterr().out
    assert "missing: pin.last_try" in out and "ne" in out
