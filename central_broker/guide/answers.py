"""Life events and answers of a guide run as they travel in links and visit codes.

Link form (interfaces.md): `ev=<life event id>[,<id>…]` and `a=<question id>:<y|n|u>[,…]`. Only ids of the
catalog are accepted, so a hand-edited link gets a clear refusal instead of a result for something else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from madoguchi.contracts.catalog_guide import Answer, ProcedureGuide

__all__ = [
    "ANSWER_LETTERS",
    "LETTER_OF",
    "GuideInput",
    "GuideInputError",
    "format_answers",
    "parse_guide_input",
]

ANSWER_LETTERS: dict[str, Answer] = {"y": Answer.YES, "n": Answer.NO, "u": Answer.UNKNOWN}
LETTER_OF = {answer: letter for letter, answer in ANSWER_LETTERS.items()}
MAX_EVENTS = 8
MAX_ANSWERS = 40


class GuideInputError(ValueError):
    """A link or form whose life events or answers the catalog does not know."""


@dataclass(frozen=True)
class GuideInput:
    """Chosen life events (in order) and the answers given so far."""

    events: tuple[str, ...]
    answers: Mapping[str, Answer] = field(default_factory=dict)

    @property
    def ev(self) -> str:
        """The `ev` link parameter."""
        return ",".join(self.events)

    @property
    def a(self) -> str:
        """The `a` link parameter."""
        return format_answers(self.answers)

    def with_answer(self, question: str, answer: Answer) -> GuideInput:
        """A copy with `question` answered `answer` (kept in answering order)."""
        answers = {k: v for k, v in self.answers.items() if k != question}
        answers[question] = answer
        return GuideInput(self.events, answers)

    def without_last(self) -> GuideInput:
        """A copy without the last answer (the guide's "back")."""
        return GuideInput(self.events, dict(list(self.answers.items())[:-1]))


def format_answers(answers: Mapping[str, Answer]) -> str:
    """`q1:y,q2:u` in the order given."""
    return ",".join(f"{question}:{LETTER_OF[Answer(answer)]}" for question, answer in answers.items())


def _events(text: str, guide: ProcedureGuide) -> tuple[str, ...]:
    known = {event.id for event in guide.life_events}
    events = tuple(dict.fromkeys(part for part in text.split(",") if part))
    if not events:
        raise GuideInputError("no life event chosen: choose one")
    if len(events) > MAX_EVENTS:
        raise GuideInputError(f"at most {MAX_EVENTS} life events; choose fewer")
    unknown = [event for event in events if event not in known]
    if unknown:
        raise GuideInputError(f"unknown life event {unknown[0]!r}: start the guide again")
    return events


def _answers(text: str, guide: ProcedureGuide) -> dict[str, Answer]:
    known = {question.id for question in guide.questions}
    answers: dict[str, Answer] = {}
    parts = [part for part in text.split(",") if part]
    if len(parts) > MAX_ANSWERS:
        raise GuideInputError(f"at most {MAX_ANSWERS} answers; start the guide again")
    for part in parts:
        question, _, letter = part.partition(":")
        if question not in known:
            raise GuideInputError(f"unknown question {question!r}: start the guide again")
        if letter not in ANSWER_LETTERS:
            raise GuideInputError(f"answer of {question!r} must be y, n or u, not {letter!r}")
        answers[question] = ANSWER_LETTERS[letter]
    return answers


def parse_guide_input(ev: str, a: str, guide: ProcedureGuide) -> GuideInput:
    """The life events and answers of link parameters `ev` and `a`, checked against `guide`.

    Raises:
        GuideInputError: an empty or unknown life event, an unknown question or a bad answer letter.
    """
    return GuideInput(_events(ev, guide), _answers(a, guide))
