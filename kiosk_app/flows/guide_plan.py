"""Pure helpers of the procedure guide on the kiosk: the next question, progress, forms, the public address.

The result itself is always `ProcedureGuide.results` (shared with the web, never forked); the visit plan
(`ticket_plan`, `routed`), the phone link and the visit-code address are shared with the central in
`madoguchi.guide_links` and re-exported here for the kiosk's modules.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from urllib.parse import urlsplit

from madoguchi.contracts.catalog_guide import (
    MAX_QUESTIONS_PER_EVENT,
    Answer,
    GuideItem,
    ProcedureGuide,
    Question,
)
from madoguchi.guide_links import (
    ANSWER_CODES,
    MAX_VISIT_CODE,
    TicketPlan,
    phone_link,
    routed,
    ticket_plan,
    visit_code_of,
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


def forms_of(items: Sequence[GuideItem], kept: Collection[str]) -> tuple[str, ...]:
    """Procedure ids of the visit that have an application form (for 書かない窓口)."""
    return tuple(i.procedure.id for i in routed(items, kept) if i.procedure.form is not None)


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
