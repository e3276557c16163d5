"""Events, commands and the statistic of the 手続きガイド (procedure guide, issue 19).

The resident's taps (`ChooseLifeEvent`, `AnswerQuestion`, `KeepOptional`, `PrintList`, `ShowPhoneLink`,
`TakeGuideTicket`) are `UserAction`s. The runner answers `PrintGuideList` with `PrintDone`/`PrintFailed`
(the existing printing events) and `MakePhoneLink` with `PhoneLinkReady`. The ticket goes through the
existing `queue_events.TakeTicket`. Nothing here carries personal data: life events and answers are
anonymous and leave the kiosk only as the phone link (no account) and the `guide_session` statistic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kiosk_app.flows.core import Command, Event, UserAction
from kiosk_app.flows.stats import SessionStats
from madoguchi.contracts.catalog_guide import Answer

__all__ = [
    "GUIDE_STATS_KIND",
    "AnswerQuestion",
    "ChooseLifeEvent",
    "GuideSessionStats",
    "HandOverToPrefill",
    "KeepOptional",
    "MakePhoneLink",
    "PhoneLinkReady",
    "PrintGuideList",
    "PrintList",
    "ShowPhoneLink",
    "TakeGuideTicket",
    "VisitCodeScanned",
]

GUIDE_STATS_KIND = "guide_session"

Answers = tuple[tuple[str, Answer], ...]  # (question id, answer) in the order asked


@dataclass(frozen=True)
class ChooseLifeEvent(UserAction):
    """A life event button (転入, 出生 …) was tapped."""

    event_id: str


@dataclass(frozen=True)
class AnswerQuestion(UserAction):
    """はい / いいえ / わからない on the question shown."""

    answer: Answer


@dataclass(frozen=True)
class KeepOptional(UserAction):
    """A route ④ procedure ("consult if you wish"): the resident wants to go there too (or no longer)."""

    procedure_id: str


@dataclass(frozen=True)
class PrintList(UserAction):
    """Print the list on the receipt printer."""


@dataclass(frozen=True)
class ShowPhoneLink(UserAction):
    """Show the QR that opens the same list on a phone."""


@dataclass(frozen=True)
class TakeGuideTicket(UserAction):
    """この手続きで整理券を取る: one ticket for the listed counters, in visit order."""


@dataclass(frozen=True)
class HandOverToPrefill(UserAction):
    """申請書の記入を手伝う: the guide ends here (its record is sent) and 書かない窓口 takes over."""


@dataclass(frozen=True)
class PhoneLinkReady(Event):
    """The phone link of the result (empty: this kiosk does not know the central's public address)."""

    url: str


@dataclass(frozen=True)
class VisitCodeScanned(Event):
    """The scanner read a web guide visit code (`<public base>/guide/v/<code>`); `code` is the opaque token."""

    code: str


@dataclass(frozen=True)
class PrintGuideList(Command):
    """Print the result of these life events and answers in `language` + Japanese; answer PrintDone/Failed."""

    events: tuple[str, ...]
    answers: Answers
    language: str


@dataclass(frozen=True)
class MakePhoneLink(Command):
    """Build the phone link of this result (`<public base>/guide/result?…`); answer `PhoneLinkReady`."""

    events: tuple[str, ...]
    answers: Answers
    language: str


@dataclass(frozen=True)
class GuideSessionStats(SessionStats):
    """One anonymous `guide_session` record (interfaces: outcome, language, events, questions_asked,
    unknown_questions, outputs, rating, channel)."""

    events: tuple[str, ...] = ()
    questions_asked: int = 0
    unknown_questions: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    channel: str = "kiosk"

    def fields(self) -> dict[str, Any]:
        """The `guide_session` fields (rating null when the resident gave none)."""
        data = super().fields()
        data.update(
            events=list(self.events),
            questions_asked=self.questions_asked,
            unknown_questions=list(self.unknown_questions),
            outputs=list(self.outputs),
            rating=self.rating,
            channel=self.channel,
        )
        return data
