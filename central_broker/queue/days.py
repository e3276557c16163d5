"""Business days, opening hours, visit numbers and offline number blocks (all in Japan time).

A business day starts at the branch's opening time: before it, the clock still belongs to the
previous day, so numbering restarts (`A-1`) exactly at opening. Central numbers of a day run
1…`OFFLINE_BLOCK_SIZE - 1`; kiosk block `b` (1, 2, …) issues `b × OFFLINE_BLOCK_SIZE + 1`… while
offline (`A-1001` is kiosk block 1's first ticket), so the two never collide.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from madoguchi.contracts.catalog_base import tokyo

__all__ = [
    "OFFLINE_BLOCK_SIZE",
    "block_of",
    "business_day",
    "day_end_ms",
    "format_number",
    "is_within_hours",
    "local_hour",
    "offline_range",
    "parse_number",
]

OFFLINE_BLOCK_SIZE = 1000

_NUMBER = re.compile(r"^([A-Z])-([1-9][0-9]{0,5})$")


def _local(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(tokyo())


def business_day(ms: int, opening: time) -> str:
    """The business day (YYYY-MM-DD, Japan) that epoch-ms `ms` belongs to."""
    shifted = _local(ms) - timedelta(hours=opening.hour, minutes=opening.minute, seconds=opening.second)
    return shifted.date().isoformat()


def day_end_ms(day: str) -> int:
    """Epoch ms of midnight Japan time after calendar day `day` (status tokens expire then)."""
    end = datetime.combine(date.fromisoformat(day) + timedelta(days=1), time(0), tokyo())
    return int(end.timestamp() * 1000)


def is_within_hours(ms: int, opening: time, closing: time) -> bool:
    """True when Japan time of `ms` is in [opening, closing)."""
    now = _local(ms).time()
    return opening <= now < closing


def local_hour(ms: int) -> int:
    """Hour of day (0–23, Japan time) of epoch ms."""
    return _local(ms).hour


def format_number(prefix: str, n: int) -> str:
    """`A-12`."""
    return f"{prefix}-{n}"


def parse_number(number: str) -> tuple[str, int] | None:
    """(`A`, 12) from `A-12`; None when it is not a visit number."""
    match = _NUMBER.match(number.strip().upper())
    return None if match is None else (match.group(1), int(match.group(2)))


def offline_range(block: int) -> range:
    """Numbers kiosk block `block` (≥ 1) issues offline, for each prefix and day."""
    return range(block * OFFLINE_BLOCK_SIZE + 1, (block + 1) * OFFLINE_BLOCK_SIZE)


def block_of(n: int) -> int:
    """The block a number belongs to (0 = central numbering)."""
    return n // OFFLINE_BLOCK_SIZE
