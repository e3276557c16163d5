"""Building blocks of the catalog contract: the strict base model, ids, fee periods, issues and lookup errors."""

from __future__ import annotations

import enum
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Self, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

__all__ = [
    "CATALOG_TIMEZONE",
    "CatalogIssue",
    "CatalogIssues",
    "CatalogLookupError",
    "CatalogModel",
    "Channel",
    "Fee",
    "HttpsUrl",
    "Identifier",
    "NoFeeInForce",
    "PricePeriod",
    "find_by_id",
    "in_force",
    "local_time",
    "tokyo",
    "uncovered",
]

CATALOG_TIMEZONE = "Asia/Tokyo"

# Lower-case ASCII ids, stable across releases: they are what kiosks, statistics and tickets refer to.
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,47}$")]
HttpsUrl = Annotated[str, StringConstraints(pattern=r"^https://[^\s/]+\.[^\s]+$", max_length=2000)]
YEN_MAX = 1_000_000

_M = TypeVar("_M", bound=BaseModel)


@functools.cache
def tokyo() -> ZoneInfo:
    """The catalog's time zone (all dates and hours in a catalog are Japan time)."""
    return ZoneInfo(CATALOG_TIMEZONE)


def local_time(at: datetime) -> datetime:
    """`at` in Japan time; a naive datetime is taken to be Japan time already."""
    return at.replace(tzinfo=tokyo()) if at.tzinfo is None else at.astimezone(tokyo())


class CatalogModel(BaseModel):
    """Base of every catalog part: unknown keys are refused, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Channel(enum.StrEnum):
    """Where a fee is charged: the self-service kiosk, or the counter (paid at the semi-self register)."""

    KIOSK = "kiosk"
    COUNTER = "counter"


class PricePeriod(CatalogModel):
    """An amount in yen valid from `effective_from` to `effective_to` (both inclusive, Japan dates)."""

    amount_yen: int = Field(strict=True, ge=0, le=YEN_MAX, description="fee in yen, tax included")
    effective_from: date
    effective_to: date | None = Field(
        default=None, description="last day the amount applies; none = open-ended"
    )

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError(
                f"effective_to {self.effective_to} is before effective_from {self.effective_from}; swap or fix them"
            )
        return self

    def covers(self, day: date) -> bool:
        """True when the amount applies on `day`."""
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)

    def overlaps(self, other: PricePeriod) -> bool:
        """True when both periods share at least one day."""
        self_end = self.effective_to or date.max
        other_end = other.effective_to or date.max
        return self.effective_from <= other_end and other.effective_from <= self_end

    def period_text(self) -> str:
        """`2026-04-01..2027-03-31`, or `2026-04-01..` when open-ended."""
        return f"{self.effective_from}..{self.effective_to or ''}"


class Fee(PricePeriod):
    """A certificate fee for one channel; the kiosk fee is often lower than the counter fee."""

    channel: Channel = Channel.KIOSK


def in_force(periods: Sequence[PricePeriod], at: datetime) -> PricePeriod | None:
    """The period covering the Japan date of `at`, if any."""
    day = local_time(at).date()
    return next((p for p in periods if p.covers(day)), None)


def uncovered(periods: Sequence[PricePeriod], start: date) -> list[tuple[date, date | None]]:
    """Day ranges from `start` on that no period covers (inclusive; `None` end = from then on, for ever)."""
    gaps: list[tuple[date, date | None]] = []
    day: date | None = start
    for period in sorted(periods, key=lambda p: p.effective_from):
        if day is None:
            break
        if period.effective_from > day:
            gaps.append((day, period.effective_from - timedelta(days=1)))
        if period.effective_to is None:
            day = None
        elif period.effective_to >= day:
            day = period.effective_to + timedelta(days=1)
    if day is not None:
        gaps.append((day, None))
    return gaps


@dataclass(frozen=True)
class CatalogIssue:
    """One problem in a catalog: the field path, what is wrong, and what to do."""

    path: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" + (f" — fix: {self.hint}" if self.hint else "")


class CatalogIssues(ValueError):
    """Cross-field problems found in a catalog; pydantic reports it as one error carrying all issues."""

    def __init__(self, issues: Sequence[CatalogIssue]) -> None:
        self.issues = tuple(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


class CatalogLookupError(LookupError):
    """A query the catalog cannot answer, e.g. an unknown id; the text says which and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NoFeeInForce(CatalogLookupError):
    """No fee is effective for the item at that time: sales must stop (R-01) until a new catalog arrives."""

    def __init__(self, item_id: str, channel: str, at: datetime, known: Sequence[PricePeriod]) -> None:
        periods = ", ".join(p.period_text() for p in known) or "none"
        super().__init__(
            f"no {channel} fee for {item_id!r} is in force on {local_time(at).date()} (fee periods: {periods}); "
            "sales of it are blocked until a catalog with a current fee is applied"
        )
        self.item_id = item_id
        self.channel = channel
        self.at = at


def find_by_id(items: Sequence[_M], item_id: str, what: str) -> _M:
    """The item whose `id` is `item_id`, or a `CatalogLookupError` naming the known ids."""
    for item in items:
        if getattr(item, "id", None) == item_id:
            return item
    known = ", ".join(str(getattr(item, "id", "?")) for item in items)
    raise CatalogLookupError(f"unknown {what} {item_id!r}; the catalog has: {known or 'none'}")
