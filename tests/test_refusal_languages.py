"""Every refusal reaches the resident in their kiosk language (issue 15 item 5, R-35): the catalog rule's text
in that language, else the built-in text of that kind, never a Japanese fallback for a foreign reader.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date, datetime
from typing import Any

import pytest

from central_broker.issuance.eligibility import Eligibility, refusal_for, type_refusal
from central_broker.issuance.refusal_texts import GENERIC_KINDS, builtin_refusal, resident_language
from central_broker.issuance.registry import Resident
from central_broker.rpc_server import RpcServer
from device_drivers.card.emulator.personas import persona_by_name
from device_drivers.card.pin import Pin
from kiosk_app.issuance_client import IssuanceRefused
from madoguchi.contracts.catalog import Catalog, load_sample_catalog, sample_catalog_path
from madoguchi.contracts.catalog_base import tokyo
from madoguchi.contracts.catalog_rules import RuleKind
from madoguchi.contracts.issuance import Refusal
from madoguchi.contracts.languages import LANGUAGES
from madoguchi.contracts.signed import FunctionControl
from tests.fixtures.issuance import IssuanceEnv, KioskFactory, emulated_card

# Hiragana, katakana (with the long-vowel mark and middle dot), katakana extensions, half-width katakana.
KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
UNKNOWN_KIND = "some_future_kind"  # answered with the built-in `default` texts
KINDS = (*(kind.value for kind in RuleKind), *GENERIC_KINDS, UNKNOWN_KIND)
FOREIGN = tuple(lang for lang in LANGUAGES if lang not in ("ja", "ja-x-easy"))
RESIDENT = Resident("R-LANG", "試験 花子", "シケン ハナコ", date(1990, 1, 1), "女", "みどり市1-1", "H-LANG")


@pytest.fixture(scope="module")
def sample() -> Catalog:
    """The shipped sample catalog."""
    return load_sample_catalog()


def _japanese_only_rules() -> Catalog:
    """The sample catalog with every eligibility rule cut down to its Japanese texts."""
    data: dict[str, Any] = json.loads(sample_catalog_path().read_text(encoding="utf-8"))
    for rule in data["eligibility_rules"]:
        rule["reason"] = {"ja": rule["reason"]["ja"]}
        rule["where_to_go"] = {"ja": rule["where_to_go"]["ja"]}
    return Catalog.model_validate(data)


def _assert_in_language(refusal: Refusal, japanese: Refusal, language: str) -> None:
    where = f"{refusal.kind} in {language}"
    assert refusal.reason.strip() and refusal.where_to_go.strip(), where
    if language == "ja-x-easy":
        assert refusal.reason != japanese.reason, where
        assert refusal.where_to_go != japanese.where_to_go, where
    elif language != "ja":
        assert refusal.reason != japanese.reason and refusal.where_to_go != japanese.where_to_go, where
        assert not KANA.search(refusal.reason + refusal.where_to_go), f"{where}: {refusal}"


@pytest.mark.parametrize("kind", KINDS)
def test_every_refusal_kind_reads_in_every_language(kind: str, sample: Catalog) -> None:
    """GIVEN the sample catalog WHEN a refusal of any kind is given in any kiosk language THEN its reason and
    where-to-go are there, in that language: no Japanese fallback (no kana) abroad, easy Japanese differs."""
    japanese = refusal_for(sample, kind, "ja")
    for language in LANGUAGES:
        _assert_in_language(refusal_for(sample, kind, language), japanese, language)


@pytest.mark.parametrize("kind", KINDS)
def test_rules_with_only_japanese_fall_back_to_the_builtin_texts(kind: str) -> None:
    """GIVEN a catalog whose rules are written in Japanese only WHEN refused in another language THEN the
    built-in text of that kind is shown, and the rule's counter is kept."""
    catalog = _japanese_only_rules()
    japanese = refusal_for(catalog, kind, "ja")
    rule = next((r for r in catalog.eligibility_rules if r.kind.value == kind), None)
    builtin = builtin_refusal(kind)
    for language in LANGUAGES:
        refusal = refusal_for(catalog, kind, language)
        _assert_in_language(refusal, japanese, language)
        assert refusal.counter == (rule.counter if rule else None)
        if language != "ja":
            assert refusal.reason == builtin.reason.text(language)
            assert refusal.where_to_go == builtin.where_to_go.text(language)


def test_each_field_uses_the_catalog_text_when_it_has_the_language() -> None:
    """GIVEN a rule with a Vietnamese reason but a Japanese-only where-to-go WHEN refused in Vietnamese THEN the
    reason is the catalog's and where-to-go the built-in one; an unknown regional code uses its base language."""
    data: dict[str, Any] = json.loads(sample_catalog_path().read_text(encoding="utf-8"))
    rule = next(r for r in data["eligibility_rules"] if r["kind"] == "moved_out")
    rule["reason"] = {"ja": rule["reason"]["ja"], "vi": "Lý do riêng của thành phố."}
    rule["where_to_go"] = {"ja": rule["where_to_go"]["ja"]}
    catalog = Catalog.model_validate(data)
    refusal = refusal_for(catalog, "moved_out", "vi", "juminhyo")
    assert refusal.reason == "Lý do riêng của thành phố."
    assert refusal.where_to_go == builtin_refusal("moved_out").where_to_go.text("vi")
    assert refusal.counter == "shimin_1"
    assert resident_language("vi-VN") == "vi" and resident_language("ja_x_easy") == "ja-x-easy"
    assert resident_language("xx") == "ja"


def test_hours_and_operator_message_never_add_japanese_abroad() -> None:
    """GIVEN a family register outside its hours with no Nepali hours label, and a kill switch with a Japanese
    message WHEN refused in Nepali / Vietnamese THEN the hours are built from the weekly windows in Nepali and
    the Japanese message is left out; Japanese and easy-Japanese readers still see it."""
    data: dict[str, Any] = json.loads(sample_catalog_path().read_text(encoding="utf-8"))
    for cert in data["certificate_types"]:
        if cert.get("hours"):
            cert["hours"]["label"] = {"ja": cert["hours"]["label"]["ja"]}
    catalog = Catalog.model_validate(data)
    koseki = catalog.certificate_type("koseki_zenbu")
    saturday = datetime(2026, 6, 6, 10, 0, tzinfo=tokyo())
    open_rules = Eligibility(catalog, FunctionControl(), lambda _: True)
    closed = type_refusal(open_rules, koseki, RESIDENT, "jp-999999-k80", "999999", saturday, "ne")
    assert closed is not None and closed.kind == "outside_hours"
    assert "सोम–शुक्र 08:30–17:00" in closed.reason
    assert not KANA.search(closed.reason + closed.where_to_go)

    message = "点検のため停止中です"
    stopped = Eligibility(
        catalog, FunctionControl(suspended_all=True, message={"ja": message}), lambda _: True
    )
    weekday = datetime(2026, 6, 9, 10, 0, tzinfo=tokyo())
    juminhyo = catalog.certificate_type("juminhyo")
    for language, shown in (("vi", False), ("ne", False), ("ja", True), ("ja-x-easy", True)):
        refusal = type_refusal(stopped, juminhyo, RESIDENT, "jp-999999-k80", "999999", weekday, language)
        assert refusal is not None and refusal.kind == "kill_switch"
        assert (message in refusal.reason) is shown, language
    english = FunctionControl(suspended_all=True, message={"ja": message, "en": "Back at 15:00."})
    refusal = type_refusal(
        dataclasses.replace(stopped, control=english),
        juminhyo,
        RESIDENT,
        "jp-999999-k80",
        "999999",
        weekday,
        "en",
    )
    assert refusal is not None and refusal.reason.endswith("Back at 15:00.")


@pytest.mark.mosquitto
@pytest.mark.parametrize(("device", "language"), [("jp-999999-k81", "vi"), ("jp-999999-k82", "ne")])
def test_refused_cards_are_told_why_in_their_language_over_mqtt(
    device: str, language: str, issuance_server: tuple[IssuanceEnv, RpcServer], issuance_kiosk: KioskFactory
) -> None:
    """GIVEN a kiosk set to Vietnamese or Nepali WHEN a revoked card and a card of nobody in the registry
    authenticate over the real Mosquitto RPC THEN both refusals come back in that language, not Japanese."""
    env, _ = issuance_server
    kiosk = issuance_kiosk(device)
    kiosk.language = language
    stranger = dataclasses.replace(
        persona_by_name("valid-adult"), name="stranger-lang", my_number="999999999991"
    )
    for persona, kind in (
        (persona_by_name("revoked-cert"), "certificate_revoked"),
        (stranger, "not_resident"),
    ):
        session = kiosk.begin()
        with emulated_card(env.ca, persona) as card, pytest.raises(IssuanceRefused) as caught:
            kiosk.authenticate(session, card, Pin.from_digits("1234"))
        refusal = caught.value.refusal
        expected = builtin_refusal(kind)
        assert refusal.kind == kind
        assert refusal.reason == expected.reason.text(language)
        assert refusal.where_to_go == expected.where_to_go.text(language)
        assert not KANA.search(refusal.reason + refusal.where_to_go)


@pytest.mark.mosquitto
def test_moved_out_resident_reads_the_catalog_rule_in_filipino_over_mqtt(
    issuance_server: tuple[IssuanceEnv, RpcServer], issuance_kiosk: KioskFactory
) -> None:
    """GIVEN a 転出 resident on a Filipino kiosk WHEN the options come over MQTT THEN the 住民票 refusal is the
    catalog rule's Filipino text with its counter."""
    env, _ = issuance_server
    kiosk = issuance_kiosk("jp-999999-k83")
    kiosk.language = "tl"
    session = kiosk.begin()
    with emulated_card(env.ca, persona_by_name("moved-out")) as card:
        kiosk.authenticate(session, card, Pin.from_digits("1234"))
    refused = {r.type_id: r for r in kiosk.options(session).refused}
    refusal = refused["juminhyo"]
    rule = next(r for r in env.service.settings.catalog.eligibility_rules if r.kind is RuleKind.MOVED_OUT)
    assert refusal.kind == "moved_out" and refusal.counter == "shimin_1"
    assert refusal.reason == rule.reason.text("tl")
    assert refusal.where_to_go == rule.where_to_go.text("tl")
    assert not KANA.search(refusal.reason + refusal.where_to_go)
