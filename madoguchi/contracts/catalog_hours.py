"""Service hours of the catalog (R-02): weekly windows, recurring closures (12/29–1/3), holidays, maintenance."""

from __future__ import annotations

import enum
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Self

from pydantic import AwareDatetime, Field, StringConstraints, field_validator, model_validator

from madoguchi.contracts.catalog_base import CatalogModel, Identifier, local_time, tokyo
from madoguchi.contracts.languages import LocalizedText

__all__ = [
    "ClosedReason",
    "Holiday",
    "HoursOverride",
    "Maintenance",
    "OpenStatus",
    "RecurringClosure",
    "ServiceHours",
    "TimeWindow",
    "WeeklyHours",
    "evaluate_hours",
    "hours_summary",
]

MonthDay = Annotated[str, StringConstraints(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SEARCH_DAYS = 21


class TimeWindow(CatalogModel):
    """Open from `open` (inclusive) to `close` (exclusive), Japan local time, e.g. 06:30–23:00."""

    open: time
    close: time

    @field_validator("open", "close")
    @classmethod
    def _local(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("write the time without a zone, e.g. '08:30'; catalog hours are Japan time")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.close <= self.open:
            raise ValueError(f"close {self.close:%H:%M} is not after open {self.open:%H:%M}")
        return self

    def contains(self, moment: time) -> bool:
        """True when `moment` falls in the window."""
        return self.open <= moment < self.close

    def __str__(self) -> str:
        return f"{self.open:%H:%M}–{self.close:%H:%M}"


class WeeklyHours(CatalogModel):
    """Opening windows per weekday; a day without windows is closed."""

    mon: list[TimeWindow] = Field(default_factory=list)
    tue: list[TimeWindow] = Field(default_factory=list)
    wed: list[TimeWindow] = Field(default_factory=list)
    thu: list[TimeWindow] = Field(default_factory=list)
    fri: list[TimeWindow] = Field(default_factory=list)
    sat: list[TimeWindow] = Field(default_factory=list)
    sun: list[TimeWindow] = Field(default_factory=list)

    @model_validator(mode="after")
    def _no_overlap(self) -> Self:
        for day in WEEKDAYS:
            windows = sorted(getattr(self, day), key=lambda w: w.open)
            for earlier, later in itertools.pairwise(windows):
                if later.open < earlier.close:
                    raise ValueError(f"{day}: window {later} overlaps {earlier}; merge or separate them")
        return self

    def windows_on(self, weekday: int) -> list[TimeWindow]:
        """Windows of a weekday (0 = Monday, as `date.weekday()`), in time order."""
        windows: list[TimeWindow] = getattr(self, WEEKDAYS[weekday])
        return sorted(windows, key=lambda w: w.open)


class RecurringClosure(CatalogModel):
    """Closed every year from `start` to `end` (MM-DD, inclusive); may span the new year (12-29 → 01-03)."""

    start: MonthDay
    end: MonthDay
    reason: LocalizedText

    @field_validator("start", "end")
    @classmethod
    def _real_day(cls, value: str) -> str:
        month, day = (int(part) for part in value.split("-"))
        date(2024, month, day)  # a leap year, so 02-29 is allowed; raises ValueError for 02-30, 04-31
        return value

    def contains(self, day: date) -> bool:
        """True when `day` falls in the closure (either side of the year boundary)."""
        here = f"{day.month:02d}-{day.day:02d}"
        if self.start <= self.end:
            return self.start <= here <= self.end
        return here >= self.start or here <= self.end


class Holiday(CatalogModel):
    """A public holiday; types whose hours say `closed_on_holidays` are closed on it."""

    date: date
    names: LocalizedText


class Maintenance(CatalogModel):
    """A planned outage (e.g. the J-LIS system stop); empty `certificate_types` means every type."""

    id: Identifier
    start: AwareDatetime
    end: AwareDatetime
    reason: LocalizedText
    certificate_types: list[Identifier] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise ValueError(f"end {self.end.isoformat()} is not after start {self.start.isoformat()}")
        return self

    def affects(self, cert_type_id: str) -> bool:
        """True when the outage stops `cert_type_id`."""
        return not self.certificate_types or cert_type_id in self.certificate_types


class ServiceHours(CatalogModel):
    """Default kiosk hours for every certificate type (kiosk-requirements.md §2: 6:30–23:00 daily)."""

    label: LocalizedText = Field(description="the hours as residents read them, e.g. 毎日 6:30〜23:00")
    weekly: WeeklyHours
    closed_on_holidays: bool = False
    closed_periods: list[RecurringClosure] = Field(default_factory=list)
    holidays: list[Holiday] = Field(default_factory=list)
    maintenance: list[Maintenance] = Field(default_factory=list)


class HoursOverride(CatalogModel):
    """Hours of one certificate type that differ from the default (戸籍: weekdays 8:30–17:00).

    Closed periods, holidays and maintenance still come from the catalog's `service_hours`.
    """

    label: LocalizedText
    weekly: WeeklyHours
    closed_on_holidays: bool = True


class ClosedReason(enum.StrEnum):
    """Why an item cannot be issued at a given time; values match the eligibility rule kinds."""

    MAINTENANCE = "maintenance"
    CLOSED_PERIOD = "closed_period"
    HOLIDAY = "holiday"
    OUTSIDE_HOURS = "outside_hours"


@dataclass(frozen=True)
class OpenStatus:
    """Whether a certificate type can be issued now; when closed, why, and the hours to show (R-02)."""

    open: bool
    reason: ClosedReason | None
    hours: LocalizedText
    note: LocalizedText | None = None
    next_open: datetime | None = None


def _closed_reason(
    hours: ServiceHours, override: HoursOverride | None, cert_type_id: str, moment: datetime
) -> tuple[ClosedReason, LocalizedText | None] | None:
    day = moment.date()
    for outage in hours.maintenance:
        if outage.affects(cert_type_id) and outage.start <= moment < outage.end:
            return ClosedReason.MAINTENANCE, outage.reason
    for closure in hours.closed_periods:
        if closure.contains(day):
            return ClosedReason.CLOSED_PERIOD, closure.reason
    on_holidays = override.closed_on_holidays if override else hours.closed_on_holidays
    holiday = next((h for h in hours.holidays if h.date == day), None)
    if on_holidays and holiday is not None:
        return ClosedReason.HOLIDAY, holiday.names
    weekly = override.weekly if override else hours.weekly
    if not any(w.contains(moment.time()) for w in weekly.windows_on(day.weekday())):
        return ClosedReason.OUTSIDE_HOURS, None
    return None


def _next_open(
    hours: ServiceHours, override: HoursOverride | None, cert_type_id: str, after: datetime
) -> datetime | None:
    weekly = override.weekly if override else hours.weekly
    candidates: list[datetime] = [o.end.astimezone(tokyo()) for o in hours.maintenance if o.end > after]
    for offset in range(_SEARCH_DAYS):
        day = after.date() + timedelta(days=offset)
        candidates += [
            datetime.combine(day, w.open, tzinfo=tokyo()) for w in weekly.windows_on(day.weekday())
        ]
    for moment in sorted(c for c in candidates if c > after):
        if _closed_reason(hours, override, cert_type_id, moment) is None:
            return moment
    return None


def evaluate_hours(
    hours: ServiceHours, override: HoursOverride | None, cert_type_id: str, at: datetime
) -> OpenStatus:
    """Open or closed at `at` (naive = Japan time), with the reason and the next opening when closed."""
    moment = local_time(at)
    label = override.label if override else hours.label
    closed = _closed_reason(hours, override, cert_type_id, moment)
    if closed is None:
        return OpenStatus(open=True, reason=None, hours=label)
    reason, note = closed
    return OpenStatus(
        open=False,
        reason=reason,
        hours=label,
        note=note,
        next_open=_next_open(hours, override, cert_type_id, moment),
    )


def hours_summary(weekly: WeeklyHours) -> Sequence[str]:
    """One `mon 06:30–23:00` line per weekday, for operators (residents read the `label`)."""
    return [
        f"{day} {', '.join(str(w) for w in weekly.windows_on(i)) or 'closed'}"
        for i, day in enumerate(WEEKDAYS)
    ]
