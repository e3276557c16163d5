"""`[queue]` of the central configuration: the visit-number service (整理券, issue 18) `kiosk-central serve` runs.

The section is optional: left out, `serve` issues numbers at every kiosk's branch from 08:30 to 17:15 Japan
time with the defaults below, and the tickets' QR codes point at the central's own web address (set
`public_url` for anything residents' phones must reach). Categories, counters and congestion thresholds
come from the catalog; what the catalog has no field for (hours, caps, no-show rule, service time before
there is data, the per-kiosk rate limit) is here.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Literal

from pydantic import Field, StrictBool, StrictInt, field_validator, model_validator

from madoguchi.config.loading import ConfigModel
from madoguchi.config.problems import ConfigValueError, Issue

__all__ = ["QueueSection"]

_TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
MAX_CAP = 999  # central numbers stay below 1000, where the kiosks' offline blocks start


def parse_hhmm(value: str) -> time:
    """`08:30` → time(8, 30)."""
    match = _TIME.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not a time of day HH:MM")
    return time(int(match.group(1)), int(match.group(2)))


class QueueSection(ConfigModel):
    """Hours, caps, no-show rule, rate limit and the public status-page address of the visit queue."""

    enabled: StrictBool = Field(True, description="serve queue.take/block/merge and publish congestion lamps")
    public_url: str | None = Field(
        None,
        max_length=200,
        pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$",
        description="public base address of the resident status page; a ticket's QR is <public_url>/q/<token>. "
        "Unset: the central's own web address (fine for a demo, not for residents' phones)",
        examples=["https://madoguchi.city.example"],
    )
    opening_time: str = Field(
        "08:30", description="Japan time tickets start (numbering restarts at A-1)", examples=["08:30"]
    )
    closing_time: str = Field(
        "17:15", description="Japan time no more tickets are issued", examples=["17:15"]
    )
    always_open: StrictBool = Field(
        False, description="issue at every hour, the business day starting at midnight (demo only)"
    )
    branches: list[str] = Field(
        default_factory=list,
        description="branch offices (as the kiosks report them) that issue numbers; empty: every branch",
        examples=[["本庁舎", "北支所"]],
    )
    daily_cap: StrictInt = Field(MAX_CAP, ge=0, le=MAX_CAP, description="most tickets per category and day")
    category_caps: dict[str, StrictInt] = Field(
        default_factory=dict, description="per category id, overrides daily_cap", examples=[{"moving": 200}]
    )
    closed_categories: list[str] = Field(
        default_factory=list, description="category ids never issued by kiosks (staff can close others)"
    )
    default_service_minutes: float = Field(
        10.0, gt=0, le=240, description="minutes per person at a counter before it has served anyone today"
    )
    service_minutes: dict[str, float] = Field(
        default_factory=dict, description="per counter id, overrides default_service_minutes"
    )
    no_show_recalls: StrictInt = Field(2, ge=0, le=10, description="recalls before staff may mark a no-show")
    no_show: Literal["requeue", "cancel"] = Field(
        "requeue", description="a no-show goes to the back of the line (requeue) or is cancelled"
    )
    take_burst: StrictInt = Field(5, ge=1, le=100, description="queue.take a kiosk may ask in a row")
    take_per_minute: StrictInt = Field(
        6, ge=1, le=600, description="queue.take per kiosk and minute once the burst is used up"
    )
    publish_every_s: StrictInt = Field(
        60, ge=10, le=60, description="congestion lamps are re-published at least this often"
    )

    @field_validator("opening_time", "closing_time", mode="before")
    @classmethod
    def _toml_time(cls, value: object) -> object:
        return f"{value:%H:%M}" if isinstance(value, time) else value  # TOML's unquoted 08:30:00

    @field_validator("opening_time", "closing_time")
    @classmethod
    def _time_of_day(cls, value: str) -> str:
        if not _TIME.match(value):
            raise ConfigValueError(
                Issue(f"{value!r} is not a time of day", 'write it as HH:MM in Japan time, e.g. "08:30"')
            )
        return value

    @field_validator("category_caps")
    @classmethod
    def _caps(cls, value: dict[str, int]) -> dict[str, int]:
        for category, cap in value.items():
            if not 0 <= cap <= MAX_CAP:
                raise ConfigValueError(
                    Issue(
                        f"cap {cap} of {category} is outside 0..{MAX_CAP}", "central numbers stay below 1000"
                    )
                )
        return value

    @model_validator(mode="after")
    def _hours(self) -> QueueSection:
        if not self.always_open and parse_hhmm(self.closing_time) <= parse_hhmm(self.opening_time):
            raise ConfigValueError(
                Issue(
                    f"closing_time {self.closing_time} is not after opening_time {self.opening_time}",
                    "tickets are issued from opening to closing on the same day",
                )
            )
        return self

    @property
    def hours(self) -> tuple[time, time]:
        """(opening, closing) Japan time; always_open: midnight to the last microsecond of the day."""
        if self.always_open:
            return time(0, 0), time(23, 59, 59, 999999)
        return parse_hhmm(self.opening_time), parse_hhmm(self.closing_time)
