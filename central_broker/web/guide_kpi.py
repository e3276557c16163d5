"""KPIs of the procedure guide (kiosk-requirements §8: Out① guide usage, Outcome③ guide satisfaction).

From the anonymous records in `kiosk_stat`: `guide_session` (kiosks, and the web guide as `channel: web`),
`guide_rating` (a rating given on the web result page) and `guide_ticket` (a kiosk took a ticket with a web
visit code). Everything is counted by the database with GROUP BY, so memory grows with the number of
days, channels and distinct answer lists, never with the number of records.

わからない rate of a question = sessions that answered it わからない ÷ guide sessions of the question's life
events (the sessions that could have asked it; show-when rules may have skipped it in some of them).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import ColumnElement, Connection, Engine, func, select

from central_broker.store.telemetry_schema import kiosk_stat
from central_broker.web.kpi_data import day_range
from madoguchi.contracts.catalog_guide import ProcedureGuide

__all__ = ["GuideKpis", "QuestionRate", "guide_kpis"]

_logger = logging.getLogger(__name__)

SESSION = "guide_session"
RATING = "guide_rating"
TICKET = "guide_ticket"
_DAY_MS = 86_400_000
_JST_OFFSET_MS = 9 * 3_600_000
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class QuestionRate:
    """わからない answers of one question."""

    question: str
    unknown: int
    sessions: int

    @property
    def rate(self) -> float | None:
        """Share of the sessions that could ask it (0..1)."""
        return self.unknown / self.sessions if self.sessions else None


@dataclass
class GuideKpis:
    """Guide KPIs over `first`..`last` (Japan dates)."""

    first: date
    last: date
    uses: Counter[tuple[str, str]] = field(default_factory=Counter)  # (day, channel) → sessions
    completions: Counter[tuple[str, str]] = field(default_factory=Counter)  # (day, channel) → completed
    tickets: Counter[tuple[str, str]] = field(default_factory=Counter)  # (day, channel) → pre-queued
    ratings: Counter[int] = field(default_factory=Counter)  # 1..5 → count
    questions: list[QuestionRate] = field(default_factory=list)

    @property
    def days(self) -> list[str]:
        """Every day of the period, ISO form."""
        return [
            (self.first + timedelta(days=n)).isoformat() for n in range((self.last - self.first).days + 1)
        ]

    @property
    def channels(self) -> list[str]:
        """Channels seen (kiosk first)."""
        return sorted(
            {c for _, c in self.uses} | {c for _, c in self.tickets}, key=lambda c: (c != "kiosk", c)
        )

    def per_day(self, counts: Counter[tuple[str, str]]) -> list[tuple[str, float]]:
        """Every day's total over channels."""
        totals: Counter[str] = Counter()
        for (day, _), n in counts.items():
            totals[day] += n
        return [(day, float(totals[day])) for day in self.days]

    @property
    def mean_rating(self) -> float | None:
        """Average satisfaction (1–5)."""
        n = sum(self.ratings.values())
        return sum(k * v for k, v in self.ratings.items()) / n if n else None


def _day(index: int) -> str:
    return (_EPOCH + timedelta(days=int(index))).isoformat()


def _list(text: object) -> list[str]:
    if text is None:
        return []
    try:
        found = json.loads(str(text))
    except ValueError:
        return []
    return [str(x) for x in found] if isinstance(found, list) else []


def _counts(conn: Connection, report: GuideKpis, period: ColumnElement[bool]) -> None:
    """Uses, completions and pre-queued tickets per (day, channel)."""
    fields = kiosk_stat.c.fields
    day = ((kiosk_stat.c.ts + _JST_OFFSET_MS) // _DAY_MS).label("day")
    channel = func.coalesce(fields["channel"].as_string(), "kiosk").label("channel")
    outcome = fields["outcome"].as_string().label("outcome")
    sessions = period & (kiosk_stat.c.kind == SESSION)
    query = select(day, channel, outcome, func.count()).where(sessions).group_by(day, channel, outcome)
    for d, ch, out, n in conn.execute(query):
        report.uses[(_day(d), ch)] += n
        if out == "completed":
            report.completions[(_day(d), ch)] += n
    kiosk_takes = sessions & fields["outputs"].as_string().like('%"ticket"%')
    web_takes = period & (kiosk_stat.c.kind == TICKET)
    for where in (kiosk_takes, web_takes):
        for d, ch, n in conn.execute(select(day, channel, func.count()).where(where).group_by(day, channel)):
            report.tickets[(_day(d), ch)] += n


def _ratings(conn: Connection, report: GuideKpis, period: ColumnElement[bool]) -> None:
    """Satisfaction given at the end of a guide (kiosk sessions and the web result page)."""
    rating = kiosk_stat.c.fields["rating"].as_integer()
    query = (
        select(rating, func.count())
        .where(period & kiosk_stat.c.kind.in_((SESSION, RATING)) & rating.between(1, 5))
        .group_by(rating)
    )
    for value, n in conn.execute(query):
        report.ratings[int(value)] += n


def _unknown_rates(
    conn: Connection, report: GuideKpis, period: ColumnElement[bool], guide: ProcedureGuide
) -> None:
    """わからない answers per question, grouped by the distinct (events, unknown questions) lists."""
    fields = kiosk_stat.c.fields
    unknown_text = fields["unknown_questions"].as_string()
    events_text = fields["events"].as_string()
    unknown: Counter[str] = Counter()
    by_events: Counter[frozenset[str]] = Counter()
    query = (
        select(events_text, unknown_text, func.count())
        .where(period & (kiosk_stat.c.kind == SESSION))
        .group_by(events_text, unknown_text)
    )
    for events, unknowns, n in conn.execute(query):
        by_events[frozenset(_list(events))] += n
        for question_id in set(_list(unknowns)):
            unknown[question_id] += n
    for question in guide.questions:
        possible = sum(n for events, n in by_events.items() if events & set(question.life_events))
        report.questions.append(QuestionRate(question.id, unknown[question.id], possible))


def guide_kpis(engine: Engine, guide: ProcedureGuide, first: date, last: date) -> GuideKpis:
    """The guide KPIs of `first`..`last` from `kiosk_stat` (grouped by the database)."""
    start, end = day_range(first, last)
    report = GuideKpis(first, last)
    period = (kiosk_stat.c.ts >= start) & (kiosk_stat.c.ts < end)
    with engine.connect() as conn:
        _counts(conn, report, period)
        _ratings(conn, report, period)
        _unknown_rates(conn, report, period, guide)
    return report
