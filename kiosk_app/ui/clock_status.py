"""What the home screen says about the kiosk's wall clock (no Kivy here).

A kiosk that booted without network runs on the clock it saved at its last shutdown (seeded when the
image was built) until NTP answers (docs/provisioning.md). While the clock is not synchronised the home
screen shows a line for staff (`home.clock_unsynced`) and the centre raises `clock-unsynced`; residents
go on, certificates included: a certificate's date comes from the centre's clock, the kiosk's only dates
receipts and journals. Only a clock that is plainly wrong — a year before `MIN_PLAUSIBLE_YEAR`, i.e. the
saved clock was lost — stops certificate issuance with a reason (`home.clock_wrong`) until it is right.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from madoguchi.enrolment import MIN_PLAUSIBLE_YEAR

__all__ = ["CLOCK_CHECK_S", "ClockStatus", "clock_probe", "plausible_time"]

CLOCK_CHECK_S = 5.0  # how often the UI loop looks at the clock (a stat of a tmpfs file)


@dataclass(frozen=True)
class ClockStatus:
    """`synced`: NTP has synchronised the clock; `plausible`: its year is not before `MIN_PLAUSIBLE_YEAR`."""

    synced: bool = True
    plausible: bool = True


def plausible_time(now: float) -> bool:
    """Whether `now` (seconds since the Unix epoch) can be today: not before `MIN_PLAUSIBLE_YEAR`."""
    return time.gmtime(now).tm_year >= MIN_PLAUSIBLE_YEAR


def clock_probe(
    synced: Callable[[], bool], now: Callable[[], float] = time.time
) -> Callable[[], ClockStatus]:
    """A reader of the clock's status from `synced` (e.g. the agent's `clock_is_synced`) and the wall clock."""

    def read() -> ClockStatus:
        return ClockStatus(synced=synced(), plausible=plausible_time(now()))

    return read
