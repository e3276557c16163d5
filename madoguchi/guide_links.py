"""The procedure guide logic both sides share: the visit a result asks for and the links that carry it.

The result itself is always `ProcedureGuide.results` (madoguchi.contracts.catalog_guide). Shared here so the
kiosk (`kiosk_app`) and the central (`central_broker`), which may not import each other, cannot drift:

* the ticket of a result (`ticket_plan`): the counters of the routed procedures (routes ①–③, route ④ only
  when the resident keeps it, ⑤ never listed) in visit order, once each; the category of the first counter
  that issues numbers at kiosks, the other counters in `then`;
* life events and answers as they travel in links (`GuideInput`, `parse_guide_input`): `ev=<id>[,<id>…]`,
  `a=<question id>:<y|n|u>[,…]` and, on the web, `keep=<procedure id>` per kept route ④ item;
* the phone link of a result (`phone_link`, interfaces.md) and the visit-code address the web guide shows
  as a QR and a kiosk's scanner reads (`visit_url`, `visit_code_of`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.catalog_guide import Answer, GuideItem, GuideStatus, ProcedureGuide

__all__ = [
    "ANSWER_CODES",
    "ANSWER_OF_CODE",
    "MAX_VISIT_CODE",
    "GuideInput",
    "GuideInputError",
    "TicketPlan",
    "format_answers",
    "kiosk_categories",
    "parse_guide_input",
    "phone_link",
    "routed",
    "ticket_plan",
    "visit_code_of",
    "visit_url",
]

ANSWER_CODES: dict[Answer, str] = {Answer.YES: "y", Answer.NO: "n", Answer.UNKNOWN: "u"}
ANSWER_OF_CODE: dict[str, Answer] = {code: answer for answer, code in ANSWER_CODES.items()}
MAX_VISIT_CODE = 200  # TakeParams.visit_code
MAX_EVENTS = 8
MAX_ANSWERS = 40
VISIT_PATH = "/guide/v/"
_VISIT_PATH = re.compile(r"/guide/v/([A-Za-z0-9_.~-]{1,200})/?$")


# --- the visit of a result --------------------------------------------------------------------------------


def routed(items: Sequence[GuideItem], kept: Collection[str]) -> list[GuideItem]:
    """The items a visit goes to: routes ①–③ (likely or ask at the counter), route ④ only when kept."""
    return [i for i in items if i.status is not GuideStatus.OPTIONAL or i.procedure.id in kept]


@dataclass(frozen=True)
class TicketPlan:
    """One ticket for the visit (`queue.take`): the category of the first counter, then the other counters."""

    category: str
    then: tuple[str, ...]


def kiosk_categories(catalog: Catalog) -> dict[str, str]:
    """Counter id → the ticket category kiosks issue for it (its first category not concierge-only)."""
    category_of: dict[str, str] = {}
    for category in catalog.queue.categories:
        if not category.concierge_only:
            category_of.setdefault(category.counter, category.id)
    return category_of


def ticket_plan(
    items: Sequence[GuideItem], kept: Collection[str], category_of: Mapping[str, str]
) -> TicketPlan | None:
    """The ticket for the visit's counters in visit order; None when no counter has a ticket category.

    `category_of`: counter id → the category issued for it (`kiosk_categories`). The first counter with a
    category starts the visit (normally the first counter); every other counter follows in visit order.
    """
    counters = list(dict.fromkeys(item.counter.id for item in routed(items, kept)))
    first = next((c for c in counters if c in category_of), None)
    if first is None:
        return None
    return TicketPlan(category_of[first], tuple(c for c in counters if c != first))


# --- life events and answers in links ---------------------------------------------------------------------


class GuideInputError(ValueError):
    """A link or form whose life events, answers or kept procedures the catalog does not know."""


@dataclass(frozen=True)
class GuideInput:
    """Chosen life events (in order), the answers given so far (in answering order) and kept route ④ items."""

    events: tuple[str, ...]
    answers: Mapping[str, Answer] = field(default_factory=dict)
    kept: frozenset[str] = frozenset()

    @property
    def ev(self) -> str:
        """The `ev` link parameter."""
        return ",".join(self.events)

    @property
    def a(self) -> str:
        """The `a` link parameter."""
        return format_answers(self.answers.items())

    def with_answer(self, question: str, answer: Answer) -> GuideInput:
        """A copy with `question` answered `answer` (kept in answering order)."""
        answers = {k: v for k, v in self.answers.items() if k != question}
        answers[question] = answer
        return GuideInput(self.events, answers, self.kept)

    def without_last(self) -> GuideInput:
        """A copy without the last answer (the guide's "back")."""
        return GuideInput(self.events, dict(list(self.answers.items())[:-1]), self.kept)


def format_answers(answers: Iterable[tuple[str, Answer]]) -> str:
    """`q1:y,q2:u` in the order given."""
    return ",".join(f"{question}:{ANSWER_CODES[Answer(answer)]}" for question, answer in answers)


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
        question, _, code = part.partition(":")
        if question not in known:
            raise GuideInputError(f"unknown question {question!r}: start the guide again")
        if code not in ANSWER_OF_CODE:
            raise GuideInputError(f"answer of {question!r} must be y, n or u, not {code!r}")
        answers[question] = ANSWER_OF_CODE[code]
    return answers


def _kept(keep: Iterable[str], guide: ProcedureGuide) -> frozenset[str]:
    known = {procedure.id for procedure in guide.procedures}
    kept = frozenset(k for k in keep if k)
    unknown = sorted(kept - known)
    if unknown:
        raise GuideInputError(f"unknown procedure {unknown[0]!r}: start the guide again")
    return kept


def parse_guide_input(ev: str, a: str, guide: ProcedureGuide, keep: Iterable[str] = ()) -> GuideInput:
    """The life events, answers and kept procedures of link parameters `ev`, `a` and `keep`, checked on `guide`.

    Raises:
        GuideInputError: an empty or unknown life event, an unknown question, a bad answer letter or an
            unknown procedure.
    """
    return GuideInput(_events(ev, guide), _answers(a, guide), _kept(keep, guide))


# --- addresses ----------------------------------------------------------------------------------------------


def phone_link(
    base: str, events: Sequence[str], answers: Sequence[tuple[str, Answer]], language: str, version: int
) -> str:
    """The agreed phone link of a result; "" when `base` is empty (the public address is unknown)."""
    if not base:
        return ""
    query = f"ev={quote(','.join(events), safe=',')}&a={quote(format_answers(answers), safe=',:')}"
    return f"{base.rstrip('/')}/guide/result?{query}&lang={quote(language)}&cv={version}"


def visit_url(base: str, code: str) -> str:
    """The address a visit code's QR carries: `<public base>/guide/v/<code>`."""
    return f"{base.rstrip('/')}{VISIT_PATH}{code}"


def visit_code_of(scanned: str) -> str | None:
    """The visit code of a scanned web guide QR (`…/guide/v/<code>`), None for any other text."""
    text = scanned.strip()
    if not text.startswith(("https://", "http://")) or len(text) > 2000:
        return None
    match = _VISIT_PATH.search(urlsplit(text).path)
    return match.group(1) if match else None
