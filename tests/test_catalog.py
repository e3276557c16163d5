"""The catalog contract: the sample catalog validates; broken catalogs are refused naming the field path."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from madoguchi.contracts.catalog import (
    Catalog,
    CatalogInvalid,
    load_catalog,
    load_sample_catalog,
    parse_catalog,
    sample_catalog_path,
)
from madoguchi.errors import ConfigError

Mutation = Callable[[dict[str, Any]], None]

SAMPLE: dict[str, Any] = json.loads(sample_catalog_path().read_text(encoding="utf-8"))


def _refused(mutate: Mutation) -> CatalogInvalid:
    data = copy.deepcopy(SAMPLE)
    mutate(data)
    with pytest.raises(CatalogInvalid) as caught:
        parse_catalog(json.dumps(data, ensure_ascii=False).encode(), "broken.json")
    return caught.value


def _set(path: str, value: Any) -> Mutation:
    """A mutation setting `a.0.b` (dots, list indexes as numbers) to `value`."""

    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        node[int(last) if last.isdigit() else last] = value

    return mutate


def _delete(path: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        del node[last]

    return mutate


def test_sample_catalog_validates_as_the_fictional_midori_city() -> None:
    """GIVEN the shipped sample WHEN loaded THEN it is みどり市 (999999), schema 1, with the required types."""
    catalog = load_sample_catalog()
    assert isinstance(catalog, Catalog)
    assert catalog.schema_version == 1
    assert catalog.municipality.code == "999999"
    assert catalog.municipality.names.text("en") == "Midori City"
    assert {c.id for c in catalog.certificate_types} >= {
        "juminhyo", "inkan", "kazei", "koseki_zenbu", "koseki_kojin", "fuhyo",
    }  # fmt: skip


BROKEN: list[tuple[str, Mutation, str, str]] = [
    # (case, mutation, field path the message must name, words it must contain)
    (
        "missing kiosk fee",
        _set("certificate_types.1.fees", [{"channel": "counter", "amount_yen": 300, "effective_from": "2026-04-01"}]),
        "certificate_types[1].fees",
        "'inkan' has no kiosk fee",
    ),
    ("missing fees list", _delete("certificate_types.0.fees"), "certificate_types[0].fees", "Field required"),
    (
        "unknown certificate type in a rule",
        _set("eligibility_rules.3.applies_to", ["jumin"]),
        "eligibility_rules[3].applies_to[0]",
        "unknown certificate type 'jumin'",
    ),
    (
        "negative fee",
        _set("certificate_types.2.fees.0.amount_yen", -200),
        "certificate_types[2].fees[0].amount_yen",
        "greater than or equal to 0 (got -200)",
    ),
    (
        "overlapping effective dates",
        _set("certificate_types.0.fees.1.effective_from", "2027-03-01"),
        "certificate_types[0].fees[1].effective_from",
        "overlaps fees[0] (2026-04-01..2027-03-31)",
    ),
    ("unknown key", _set("certificate_types.0.max_copy", 3), "certificate_types[0].max_copy", "Extra inputs"),
    (
        "duplicate id",
        _set("certificate_types.4.id", "koseki_zenbu"),
        "certificate_types[4].id",
        "duplicate id 'koseki_zenbu' (also certificate_types[3])",
    ),
    ("bad language code", _set("certificate_types.0.names.fr", "Certificat"), "certificate_types[0].names.fr", "'ja'"),
    ("Japanese text missing", _set("certificate_types.0.names", {"en": "Residence"}), "certificate_types[0].names", "'ja'"),
    (
        "procedure with an unknown counter",
        _set("procedures.procedures.0.counter", "shimin_9"),
        "procedures.procedures[0].counter",
        "unknown counter 'shimin_9'",
    ),
    (
        "procedure with an unknown life event",
        _set("procedures.procedures.0.life_events", ["moving"]),
        "procedures.procedures[0].life_events[0]",
        "unknown life event 'moving'",
    ),
    (
        "condition on an unknown question",
        _set("procedures.procedures.3.conditions", [{"question": "has_kard", "answer": "yes"}]),
        "procedures.procedures[3].conditions[0].question",
        "unknown question 'has_kard'",
    ),
    (
        "show_when pointing forward",
        _set("procedures.questions.0.show_when", [{"question": "dog", "answer": "yes"}]),
        "procedures.questions[0].show_when[0].question",
        "question 'dog' is asked later",
    ),
    ("route out of range", _set("procedures.procedures.0.route", 6), "procedures.procedures[0].route", "1, 2, 3, 4 or 5"),
    (
        "summary over 100 characters",
        _set("procedures.procedures.0.summary.ja", "あ" * 101),
        "procedures.procedures[0].summary",
        "ja has 101",
    ),
    (
        "fee period ending before it starts",
        _set("certificate_types.0.fees.0.effective_to", "2026-01-01"),
        "certificate_types[0].fees[0]",
        "effective_to 2026-01-01 is before effective_from 2026-04-01",
    ),
    (
        "option default not among the choices",
        _set("certificate_types.0.options.0.default", "everyone"),
        "certificate_types[0].options[0]",
        "default 'everyone' is not one of the choices (all, some)",
    ),
    (
        "min_age missing its parameter",
        _delete("eligibility_rules.0.min_age"),
        "eligibility_rules[0]",
        "min_age is required",
    ),
    (
        "fee item paid with an unknown method",
        _set("fee_items.0.methods", ["cash", "bitcoin"]),
        "fee_items[0].methods[1]",
        "unknown payment method 'bitcoin'",
    ),
    (
        "queue category on an unknown counter",
        _set("queue.categories.0.counter", "nowhere"),
        "queue.categories[0].counter",
        "unknown counter 'nowhere'",
    ),
    ("string as a fee", _set("certificate_types.0.fees.0.amount_yen", "200"), "certificate_types[0].fees[0].amount_yen", "integer"),
    ("schema version 2", _set("schema_version", 2), "schema_version", "Input should be 1"),
    (
        "maintenance naming an unknown type",
        _set("service_hours.maintenance.1.certificate_types", ["koseki"]),
        "service_hours.maintenance[1].certificate_types[0]",
        "unknown certificate type 'koseki'",
    ),
    (
        "New Year closure on a day that does not exist",
        _set("service_hours.closed_periods.0.end", "02-30"),
        "service_hours.closed_periods[0].end",
        "day is out of range",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("case", "mutate", "path", "words"), BROKEN, ids=[case for case, *_ in BROKEN])
def test_broken_catalog_is_refused_naming_the_field(
    case: str, mutate: Mutation, path: str, words: str
) -> None:
    """GIVEN the sample with one defect WHEN parsed THEN a ConfigError lists a problem at that path, saying what."""
    error = _refused(mutate)
    assert isinstance(error, ConfigError)
    matching = [issue for issue in error.issues if issue.path == path]
    assert matching, f"{case}: no problem at {path}; got {[str(i) for i in error.issues]}"
    assert any(words in issue.message for issue in matching), [str(i) for i in matching]
    assert path in str(error) and "broken.json" in str(error)
    assert error.hint, "the error must say what to do"


def test_every_problem_is_listed_at_once_each_with_what_to_do() -> None:
    """GIVEN three unrelated cross-field defects WHEN parsed THEN all three are reported, each with a fix."""

    def three(data: dict[str, Any]) -> None:
        data["eligibility_rules"][3]["applies_to"] = ["jumin"]
        data["procedures"]["procedures"][0]["counter"] = "shimin_9"
        data["certificate_types"][0]["fees"][1]["effective_from"] = "2027-03-01"

    issues = _refused(three).issues
    assert [i.path for i in issues] == [
        "certificate_types[0].fees[1].effective_from",
        "eligibility_rules[3].applies_to[0]",
        "procedures.procedures[0].counter",
    ]
    assert all(issue.hint for issue in issues)
    assert "use one of: shimin_1, shimin_2" in issues[2].hint


def test_not_json_names_line_and_column() -> None:
    with pytest.raises(CatalogInvalid) as caught:
        parse_catalog(b'{"schema_version": 1,\n  "version": }', "typo.json")
    assert caught.value.issues[0].path == "line 2 column 14"
    assert "not valid JSON" in str(caught.value)


def test_unreadable_file_is_a_config_error_naming_the_path(tmp_path: Any) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(ConfigError, match=r"cannot read .*nope\.json"):
        load_catalog(missing)


def test_catalog_models_are_frozen() -> None:
    catalog = load_sample_catalog()
    with pytest.raises(ValueError, match="frozen"):
        catalog.version = 2  # type: ignore[misc]
