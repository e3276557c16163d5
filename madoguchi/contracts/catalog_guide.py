"""Procedure guide of the catalog (kiosk-requirements.md §§5–6): counters, life events, questions, procedures.

Routes follow Isesaki's patterns ①–⑤. Route ⑤ (受付も案内も対象外) may be kept in the catalog so that one
service sheet serves the web and the kiosk, but `ProcedureGuide.results` never lists it (R-27).
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from madoguchi.contracts.catalog_base import CatalogModel, HttpsUrl, Identifier
from madoguchi.contracts.languages import LocalizedText, ShortLocalizedText

__all__ = [
    "Answer",
    "Condition",
    "Counter",
    "Deliverable",
    "Department",
    "Document",
    "GuideItem",
    "GuideStatus",
    "LifeEvent",
    "Procedure",
    "ProcedureGuide",
    "Question",
    "Route",
]

MAX_QUESTIONS_PER_EVENT = 10


class Route(enum.IntEnum):
    """Isesaki routing pattern ①–⑤."""

    EXAMINED_HERE = 1  # 審査まで完結
    ACCEPTED_ON_BEHALF = 2  # 受付を代行
    GUIDED_RECEPTION_REQUIRED = 3  # 窓口所管課へ案内 (受付必須)
    GUIDED_RECEPTION_OPTIONAL = 4  # 窓口所管課へ案内 (受付任意): "consult if you wish"
    NOT_COVERED = 5  # 受付も案内も対象外: never listed


class Deliverable(enum.StrEnum):
    """What the resident receives: 交付物なし / 即時交付 / 事後交付."""

    NONE = "none"
    IMMEDIATE = "immediate"
    LATER = "later"


class Answer(enum.StrEnum):
    """Answers to a guide question; UNKNOWN (わからない) never drops a procedure (R-28)."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class Department(CatalogModel):
    """A city department (市民課, 保険年金課 …)."""

    id: Identifier
    names: LocalizedText


class Counter(CatalogModel):
    """A counter residents go to: department, floor and number as signposted in the building."""

    id: Identifier
    names: LocalizedText
    department: Identifier
    floor: int = Field(strict=True, ge=-5, le=60)
    number: str | None = Field(default=None, max_length=10, description="the counter number on the sign")
    visit_order: int = Field(default=100, strict=True, ge=0, description="lower = visit earlier")


class LifeEvent(CatalogModel):
    """A life event a resident starts the guide from (転入, 出生, 死亡 …)."""

    id: Identifier
    names: LocalizedText
    description: LocalizedText | None = None


class Condition(CatalogModel):
    """`question` answered `answer`; all conditions of a list must hold."""

    question: Identifier
    answer: Literal["yes", "no"]


class Question(CatalogModel):
    """A yes/no/わからない question, asked for its life events when every `show_when` condition holds."""

    id: Identifier
    text: LocalizedText
    help: LocalizedText | None = None
    life_events: list[Identifier] = Field(min_length=1)
    show_when: list[Condition] = Field(default_factory=list, description="conditions on earlier questions")


class Document(CatalogModel):
    """Something to bring."""

    names: LocalizedText
    note: LocalizedText | None = None
    required: bool = True


class Procedure(CatalogModel):
    """One procedure of the guide (ISE service sheet fields)."""

    id: Identifier
    names: LocalizedText
    summary: ShortLocalizedText
    department: Identifier
    counter: Identifier
    route: Route
    deliverable: Deliverable
    life_events: list[Identifier] = Field(min_length=1)
    conditions: list[Condition] = Field(default_factory=list, description="all must hold for 'likely needed'")
    documents: list[Document] = Field(default_factory=list)
    deadline: LocalizedText | None = None
    fee: LocalizedText | None = Field(default=None, description="as residents read it, e.g. 無料, 1通300円")
    form: LocalizedText | None = Field(default=None, description="様式 (form name)")
    legal_basis: str | None = Field(default=None, max_length=200)
    online_url: HttpsUrl | None = None


class GuideStatus(enum.StrEnum):
    """How a procedure appears in a guide result."""

    LIKELY = "likely"  # likely needed (routes ①–③)
    ASK = "ask"  # a condition was answered わからない: ask at the counter
    OPTIONAL = "optional"  # route ④: consult if you wish


@dataclass(frozen=True)
class GuideItem:
    """A procedure in a guide result, with its counter for grouping."""

    procedure: Procedure
    counter: Counter
    status: GuideStatus


class ProcedureGuide(CatalogModel):
    """The guide's content, shared by kiosk and web (R-29: same content version)."""

    departments: list[Department] = Field(min_length=1)
    counters: list[Counter] = Field(min_length=1)
    life_events: list[LifeEvent] = Field(default_factory=list)
    questions: list[Question] = Field(default_factory=list)
    procedures: list[Procedure] = Field(default_factory=list)

    def questions_for(self, events: Collection[str], answers: Mapping[str, Answer]) -> list[Question]:
        """Questions to show for the chosen life events, given the answers so far, in catalog order."""
        return [
            q
            for q in self.questions
            if set(q.life_events) & set(events)
            and all(answers.get(c.question) == c.answer for c in q.show_when)
        ]

    def results(self, events: Collection[str], answers: Mapping[str, Answer]) -> list[GuideItem]:
        """Procedures for the chosen life events, by counter visit order; route ⑤ is never listed.

        A condition answered the other way drops the procedure; an unanswered or わからない one keeps it as
        "ask at the counter".
        """
        counters = {counter.id: counter for counter in self.counters}
        items: list[GuideItem] = []
        for procedure in self.procedures:
            if procedure.route == Route.NOT_COVERED or not set(procedure.life_events) & set(events):
                continue
            given = [answers.get(c.question, Answer.UNKNOWN) for c in procedure.conditions]
            if any(
                a not in (Answer.UNKNOWN, Answer(c.answer))
                for a, c in zip(given, procedure.conditions, strict=True)
            ):
                continue
            if procedure.route == Route.GUIDED_RECEPTION_OPTIONAL:
                status = GuideStatus.OPTIONAL
            elif Answer.UNKNOWN in given:
                status = GuideStatus.ASK
            else:
                status = GuideStatus.LIKELY
            items.append(GuideItem(procedure, counters[procedure.counter], status))
        return sorted(items, key=lambda item: (item.counter.visit_order, item.counter.id))
