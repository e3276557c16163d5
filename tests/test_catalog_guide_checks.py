"""The procedure guide of a catalog is refused when it would mislead residents, naming the path and the fix.

Each case breaks the shipped sample guide in one way; the catalog must be refused with a problem at the path
an editor has to change, saying what is wrong and what to do (issue 19 item 6, R-28).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from madoguchi.contracts.catalog import CatalogInvalid, parse_catalog, sample_catalog_path

Guide = dict[str, Any]
SAMPLE: dict[str, Any] = json.loads(sample_catalog_path().read_text(encoding="utf-8"))


def _parse(edit: Callable[[Guide], None]) -> CatalogInvalid | None:
    data = copy.deepcopy(SAMPLE)
    edit(data["procedures"])
    try:
        parse_catalog(json.dumps(data, ensure_ascii=False).encode(), "guide.json")
    except CatalogInvalid as exc:
        return exc
    return None


def _at(guide: Guide, part: str, item_id: str) -> int:
    return next(i for i, item in enumerate(guide[part]) if item["id"] == item_id)


def _question(guide: Guide, question_id: str) -> Guide:
    found: Guide = guide["questions"][_at(guide, "questions", question_id)]
    return found


def _procedure(guide: Guide, procedure_id: str) -> Guide:
    found: Guide = guide["procedures"][_at(guide, "procedures", procedure_id)]
    return found


def _when(question: str, answer: str = "yes") -> dict[str, str]:
    return {"question": question, "answer": answer}


def _refused_at(edit: Callable[[Guide], None], path: Callable[[Guide], str], *words: str) -> None:
    error = _parse(edit)
    assert error is not None, "the broken guide was accepted"
    expected = path(SAMPLE["procedures"])
    matching = [issue for issue in error.issues if issue.path == expected]
    assert matching, f"no problem at {expected}; got {[str(i) for i in error.issues]}"
    assert any(all(w in issue.message for w in words) for issue in matching), [str(i) for i in matching]
    assert all(issue.hint for issue in matching), "every problem must say what to do"


def test_the_sample_guide_is_accepted() -> None:
    assert _parse(lambda guide: None) is None


def test_show_when_rules_that_loop_are_refused_naming_the_loop() -> None:
    """GIVEN has_card shown when dog=yes and dog shown when has_card=yes WHEN validated THEN the loop is named."""

    def loop(guide: Guide) -> None:
        _question(guide, "has_card")["show_when"] = [_when("dog")]
        _question(guide, "dog")["show_when"] = [_when("has_card")]

    _refused_at(loop, lambda g: f"procedures.questions[{_at(g, 'questions', 'has_card')}].show_when[0].question",
                "show_when rules loop: has_card → dog → has_card")  # fmt: skip


def test_a_question_waiting_for_its_own_answer_is_refused() -> None:
    def self_loop(guide: Guide) -> None:
        _question(guide, "dog")["show_when"] = [_when("dog")]

    _refused_at(self_loop, lambda g: f"procedures.questions[{_at(g, 'questions', 'dog')}].show_when[0].question",
                "loop", "never shown")  # fmt: skip


def test_show_when_on_a_question_not_asked_for_the_same_life_event_is_refused() -> None:
    """GIVEN the dog question shown only after has_card, which 転出 does not ask WHEN validated THEN refused:
    for 転出 the dog question could never appear."""

    def hidden(guide: Guide) -> None:
        _question(guide, "dog")["show_when"] = [_when("has_card")]

    _refused_at(hidden, lambda g: f"procedures.questions[{_at(g, 'questions', 'dog')}].show_when[0].question",
                "never shown for moving_out", "'has_card' is not asked there")  # fmt: skip


def test_show_when_needing_both_answers_is_refused() -> None:
    def contradiction(guide: Guide) -> None:
        _question(guide, "preschool")["show_when"] = [_when("children"), _when("children", "no")]

    _refused_at(contradiction, lambda g: f"procedures.questions[{_at(g, 'questions', 'preschool')}].show_when[1].question",
                "both yes and no")  # fmt: skip


def test_a_condition_on_a_question_not_asked_for_the_procedure_life_event_is_refused() -> None:
    """GIVEN 犬の登録 also listed for おくやみ, whose questions do not include the dog question WHEN validated
    THEN refused: for おくやみ it would always show as "ask at the counter"."""

    def unasked(guide: Guide) -> None:
        _procedure(guide, "dog")["life_events"].append("death")

    _refused_at(unasked, lambda g: f"procedures.procedures[{_at(g, 'procedures', 'dog')}].conditions[0].question",
                "'dog' is not asked for death", "ask at the counter")  # fmt: skip


def test_a_condition_on_a_follow_up_question_needs_its_prerequisite() -> None:
    """GIVEN 転入学 depending on school_child only (asked only after children=yes) WHEN validated THEN refused,
    naming the missing children=yes condition."""

    def follow_up(guide: Guide) -> None:
        _procedure(guide, "tengaku")["conditions"] = [_when("school_child")]

    _refused_at(follow_up, lambda g: f"procedures.procedures[{_at(g, 'procedures', 'tengaku')}].conditions[0].question",
                "asked only when children=yes")  # fmt: skip


def test_procedure_conditions_needing_both_answers_are_refused() -> None:
    def contradiction(guide: Guide) -> None:
        _procedure(guide, "dog")["conditions"] = [_when("dog"), _when("dog", "no")]

    _refused_at(contradiction, lambda g: f"procedures.procedures[{_at(g, 'procedures', 'dog')}].conditions[1].question",
                "both yes and no", "never listed")  # fmt: skip


def _extra_questions(guide: Guide, count: int, **extra: Any) -> None:
    template = _question(guide, "dog")
    for n in range(count):
        question = copy.deepcopy(template) | {"id": f"extra_{n}", "life_events": ["household_change"]}
        question.update({key: value(n) if callable(value) else value for key, value in extra.items()})
        guide["questions"].append(question)
        condition = [_when(f"extra_{n}")]
        procedure = copy.deepcopy(_procedure(guide, "setai_henko")) | {
            "id": f"extra_{n}",
            "conditions": condition,
        }
        guide["procedures"].append(procedure)


def test_more_than_ten_questions_on_one_path_are_refused() -> None:
    """GIVEN 世帯変更 asking its one question plus 10 more WHEN validated THEN the life event is refused (R-28)."""
    _refused_at(lambda guide: _extra_questions(guide, 10),
                lambda g: f"procedures.life_events[{_at(g, 'life_events', 'household_change')}]",
                "can ask 11 questions in one session", "at most 10")  # fmt: skip


def test_more_than_ten_questions_on_different_branches_are_accepted() -> None:
    """GIVEN 世帯変更 with 12 questions, but 6 asked only after national_health=yes and 5 only after =no
    WHEN validated THEN accepted: no resident is asked more than 7."""

    def branches(guide: Guide) -> None:
        _extra_questions(guide, 11, show_when=lambda n: [_when("national_health", "yes" if n < 6 else "no")])
        for n in range(11):
            _procedure(guide, f"extra_{n}")["conditions"].insert(
                0, _when("national_health", "yes" if n < 6 else "no")
            )

    assert _parse(branches) is None


def test_a_question_whose_answer_changes_nothing_is_refused() -> None:
    """GIVEN the dog question also asked for 出生, where no procedure depends on it WHEN validated THEN refused:
    the resident would answer for nothing."""

    def useless(guide: Guide) -> None:
        _question(guide, "dog")["life_events"].append("birth")

    _refused_at(useless, lambda g: f"procedures.questions[{_at(g, 'questions', 'dog')}].life_events[3]",
                "'dog' is asked for 'birth' but nothing there depends on its answer")  # fmt: skip


def test_a_life_event_listing_no_procedure_is_refused() -> None:
    def empty(guide: Guide) -> None:
        guide["life_events"].append(copy.deepcopy(guide["life_events"][0]) | {"id": "retirement"})

    _refused_at(
        empty, lambda g: f"procedures.life_events[{len(g['life_events'])}]", "'retirement' lists no procedure"
    )


def test_a_procedure_whose_department_no_ticket_category_reaches_is_refused() -> None:
    """GIVEN no queue category for the 環境課 counter WHEN validated THEN 犬の登録 is refused: the guide could
    not queue the visit there."""
    data = copy.deepcopy(SAMPLE)
    data["queue"]["categories"] = [c for c in data["queue"]["categories"] if c["counter"] != "kankyo"]
    with pytest.raises(CatalogInvalid) as caught:
        parse_catalog(json.dumps(data, ensure_ascii=False).encode(), "guide.json")
    path = f"procedures.procedures[{_at(SAMPLE['procedures'], 'procedures', 'dog')}].counter"
    found = [i for i in caught.value.issues if i.path == path]
    assert found and "department 'kankyo'" in found[0].message and "queue category" in found[0].hint


@pytest.mark.parametrize(
    ("edit", "path", "words"),
    [
        (lambda g: _question(g, "dog")["life_events"].append("retired"),
         lambda g: f"procedures.questions[{_at(g, 'questions', 'dog')}].life_events[3]", "unknown life event 'retired'"),
        (lambda g: _question(g, "preschool").update(show_when=[_when("kids")]),
         lambda g: f"procedures.questions[{_at(g, 'questions', 'preschool')}].show_when[0].question",
         "unknown question 'kids'"),
        (lambda g: _procedure(g, "gomi").update(department="seiso"),
         lambda g: f"procedures.procedures[{_at(g, 'procedures', 'gomi')}].department", "unknown department 'seiso'"),
        (lambda g: _procedure(g, "gomi").update(counter="kankyo_9"),
         lambda g: f"procedures.procedures[{_at(g, 'procedures', 'gomi')}].counter", "unknown counter 'kankyo_9'"),
        (lambda g: g["counters"][0].update(department="jinji"),
         lambda g: "procedures.counters[0].department", "unknown department 'jinji'"),
    ],
    ids=["question life event", "show_when question", "procedure department", "procedure counter", "counter department"],
)  # fmt: skip
def test_unknown_references_are_refused(
    edit: Callable[[Guide], None], path: Callable[[Guide], str], words: str
) -> None:
    _refused_at(edit, path, words)
