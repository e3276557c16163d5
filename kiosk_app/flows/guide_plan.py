"""Pure helpers of the procedure guide: the next question, progress, the visit plan, the phone link, visit codes.

The result itself is always `ProcedureGuide.results` (shared with the web, never forked). What the kiosk
adds: which listed procedures a visit goes to (routes ①–③, and ④ only when the resident keeps it), the
ticket category of the first counter and the further counters (`then`) in visit order, and the link
format agreed with the central: `<public base>/guide/result?ev=…&a=<question>:<y|n|u>,…&lang=…&cv=…`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from madoguchi.contracts.catalog_guide import (
    MAX_QUESTIONS_PER_EVENT,
    Answer,
    GuideItem,
    GuideStatus,
    ProcedureGuide,
    Question,
)

__all__ = [
    "ANSWER_CODES",
    "MAX_QUESTIONS",
    "MAX_VISIT_CODE",
    "TicketPlan",
    "forms_of",
    "next_question",
    "phone_link",
    "progress",
    "public_base_of",
    "routed",
    "ticket_plan",
    "visit_code_of",
]

MAX_QUESTIONS = MAX_QUESTIONS_PER_EVENT  # at most 10 questions on any path
MAX_VISIT_CODE = 200  # TakeParams.visit_code
ANSWER_CODES = {Answer.YES: "y", Answer.NO: "n", Answer.UNKNOWN: "u"}
_VISIT_PATH = re.compile(r"/guide/v/([A-Za-z0-9_.~-]{1,200})/?$")


def next_question(
    guide: ProcedureGuide, events: Collection[str], answers: Mapping[str, Answer]
) -> Question | None:
    """The first shown question not answered yet (None when done or after `MAX_QUESTIONS` answers)."""
    if len(answers) >= MAX_QUESTIONS:
        return None
    return next((q for q in guide.questions_for(events, answers) if q.id not in answers), None)


def progress(
    guide: ProcedureGuide, events: Collection[str], answers: Mapping[str, Answer]
) -> tuple[int, int]:
    """("質問 2 / 5"): the number of the question shown and the questions the path has as far as known."""
    pending = [q for q in guide.questions_for(events, answers) if q.id not in answers]
    total = min(MAX_QUESTIONS, len(answers) + len(pending))
    return min(len(answers) + 1, total), total


def routed(items: Sequence[GuideItem], kept: Collection[str]) -> list[GuideItem]:
    """The items a visit goes to: routes ①–③ (likely or ask at the counter), route ④ only when kept."""
    return [i for i in items if i.status is not GuideStatus.OPTIONAL or i.procedure.id in kept]


def forms_of(items: Sequence[GuideItem], kept: Collection[str]) -> tuple[str, ...]:
    """Procedure ids of the visit that have an application form (for 書かない窓口)."""
    return tuple(i.procedure.id for i in routed(items, kept) if i.procedure.form is not None)


@dataclass(frozen=True)
class TicketPlan:
    """One ticket for the visit: the category of the first counter, then the other counters in order."""

    category: str
    then: tuple[str, ...]


def ticket_plan(
    items: Sequence[GuideItem], kept: Collection[str], category_of: Mapping[str, str]
) -> TicketPlan | None:
    """The plan for the visit's counters in visit order; None when no counter has a ticket category here.

    `category_of`: counter id → the category this kiosk issues for it. The first counter with a category
    starts the visit (normally the first counter); every other counter follows in visit order.
    """
    counters: list[str] = []
    for item in routed(items, kept):
        if item.counter.id not in counters:
            counters.append(item.counter.id)
    first = next((c for c in counters if c in category_of), None)
    if first is None:
        return None
    return TicketPlan(category_of[first], tuple(c for c in counters if c != first))


def phone_link(
    base: str, events: Sequence[str], answers: Sequence[tuple[str, Answer]], language: str, version: int
) -> str:
    """The agreed phone link of a result; "" when `base` is empty (the public address is unknown)."""
    if not base:
        return ""
    given = ",".join(f"{q}:{ANSWER_CODES[a]}" for q, a in answers)
    query = f"ev={quote(','.join(events), safe=',')}&a={quote(given, safe=',:')}"
    return f"{base.rstrip('/')}/guide/result?{query}&lang={quote(language)}&cv={version}"


def public_base_of(status_url_base: str) -> str:
    """The central's public address from the ticket status page address (`<public base>/q/`), else ""."""
    base = status_url_base.strip()
    if not base.startswith(("https://", "http://")):
        return ""
    trimmed = base.rstrip("/")
    if trimmed.endswith("/q"):
        return trimmed[: -len("/q")]
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}"


def visit_code_of(scanned: str) -> str | None:
    """The visit code of a scanned web guide QR (`…/guide/v/<code>`), None for any other text."""
    text = scanned.strip()
    if not text.startswith(("https://", "http://")) or len(text) > 2000:
        return None
    match = _VISIT_PATH.search(urlsplit(text).path)
    return match.group(1) if match else None
