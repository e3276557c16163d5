"""The procedure guide's steps, settings and per-resident context (anonymous: life events and answers only).

`GuideContext.wipe()` forgets everything the resident chose; the flow calls it when the session ends.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from kiosk_app.flows import guide_events as ge
from kiosk_app.flows import queue_events as qe
from kiosk_app.flows.guide_plan import TicketPlan, next_question, ticket_plan
from kiosk_app.flows.stats import StepTimes
from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.catalog_guide import Answer, GuideItem, ProcedureGuide, Question
from madoguchi.contracts.languages import DEFAULT_LANGUAGE
from madoguchi.guide_links import kiosk_categories

__all__ = ["GuideContext", "GuideSettings", "GuideStep", "settings_for"]


class GuideStep(enum.Enum):
    """Screens (and device waits) of the guide."""

    HOME = "home"
    EVENTS = "guide_events"
    QUESTION = "guide_question"
    RESULT = "guide_result"
    PRINTING = "guide_printing"
    PHONE = "guide_phone"
    TAKING = "guide_taking"
    TICKET = "guide_ticket"
    TICKET_PROBLEM = "guide_ticket_problem"
    RATING = "guide_rating"
    MORE_TIME = "guide_more_time"


@dataclass(frozen=True)
class GuideSettings:
    """Timeouts (seconds) and the ticket categories this kiosk issues per counter."""

    category_of: tuple[tuple[str, str], ...] = ()  # (counter id, category id)
    idle_timeout_s: float = 60.0
    more_time_s: float = 30.0
    device_timeout_s: float = 45.0  # watchdog over printing, the phone link and the ticket
    done_s: float = 60.0


def settings_for(catalog: Catalog | None, idle_timeout_s: float = 60.0) -> GuideSettings:
    """Settings from the catalog: each counter's first category offered at kiosks."""
    if catalog is None:
        return GuideSettings(idle_timeout_s=idle_timeout_s)
    return GuideSettings(tuple(kiosk_categories(catalog).items()), idle_timeout_s=idle_timeout_s)


@dataclass
class GuideContext:
    """One resident's guide session (anonymous: life events and answers only)."""

    settings: GuideSettings
    guide: ProcedureGuide | None
    language: str = DEFAULT_LANGUAGE
    started: bool = False
    events: tuple[str, ...] = ()
    answers: dict[str, Answer] = field(default_factory=dict)  # in the order asked
    kept: set[str] = field(default_factory=set)
    reached_result: bool = False
    outputs: list[str] = field(default_factory=list)
    printed: bool = False
    print_problem: str = ""
    phone_url: str | None = None  # None: not made yet; "": no public address known
    ticket: qe.IssuedTicket | None = None
    refusal_kind: str = ""
    refusal_detail: str = ""
    unavailable_reason: str = ""
    rating: int | None = None
    timed_out: bool = False
    times: StepTimes = field(default_factory=StepTimes)

    def begin(self) -> None:
        """Start a fresh session."""
        self.wipe()
        self.started = True

    def wipe(self) -> None:
        """Forget everything the resident chose or answered."""
        self.started, self.events, self.reached_result, self.printed, self.timed_out = (
            False,
            (),
            False,
            False,
            False,
        )
        self.answers.clear()
        self.kept.clear()
        self.outputs.clear()
        self.print_problem, self.refusal_kind, self.refusal_detail, self.unavailable_reason = "", "", "", ""
        self.phone_url, self.ticket, self.rating = None, None, None
        self.times = StepTimes()

    def items(self) -> list[GuideItem]:
        """The result for the life events and answers so far."""
        return [] if self.guide is None else self.guide.results(self.events, self.answers)

    def question(self) -> Question | None:
        """The question to show now (None when the questions are done)."""
        return None if self.guide is None else next_question(self.guide, self.events, self.answers)

    def plan(self) -> TicketPlan | None:
        """The ticket for the listed counters (None: no counter issues tickets here)."""
        return ticket_plan(self.items(), self.kept, dict(self.settings.category_of))

    def output(self, name: str) -> None:
        """Count an output once (print, phone_qr, ticket)."""
        if name not in self.outputs:
            self.outputs.append(name)

    def answer_list(self) -> ge.Answers:
        """(question, answer) in the order asked."""
        return tuple(self.answers.items())
