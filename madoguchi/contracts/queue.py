"""Visit-number (整理券) contract between kiosks and the central queue service (issue 18).

RPC methods over the generic MQTT 5 RPC of contract §2 (`up/rpc` → `down/rpc`):

- `queue.take` (`TakeParams` → `TicketView`): the next number of a category at the kiosk's branch;
- `queue.block` (`BlockParams` → `BlockView`): the kiosk's reserved block of numbers for offline issuing;
- `queue.merge` (`MergeParams` → `MergeView`): tickets the kiosk issued while the central was unreachable.

Refusals are `RpcError` with code `refused` (`RpcErrorCode.REFUSED`) and `QueueRefusal` in `data` (`kind` +
message + hint; `QueueRefusal.from_error` reads it back); `RefusalKind` lists the kinds the central sends today.

Retained per kiosk on `kiosk/v1/d/{dev}/down/queue` (project addition, docs/queue.md): `CongestionView`, the
混雑 lamp of each category of the kiosk's branch and the branch's business-day opening time, published when
it changes and at least every minute.

No personal data: a ticket is a number, counters and times; the status token is random and only its hash is
kept by the central.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from madoguchi.contracts.base import EpochMillis, Message
from madoguchi.contracts.catalog_base import Identifier
from madoguchi.contracts.languages import LanguageCode
from madoguchi.contracts.rpc import RpcError, RpcErrorCode

__all__ = [
    "BlockParams",
    "BlockView",
    "CategoryLamp",
    "Congestion",
    "CongestionView",
    "CounterStop",
    "MergeItem",
    "MergeParams",
    "MergeResult",
    "MergeView",
    "OfflineTicketIn",
    "QueueMethod",
    "QueueRefusal",
    "RefusalKind",
    "TakeParams",
    "TicketView",
]

CategoryId = Identifier  # catalog `queue.categories[].id`
TicketNumber = Annotated[str, StringConstraints(pattern=r"^[A-Z]-[0-9]{1,6}$")]
TokenHash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class QueueMethod(enum.StrEnum):
    """The RPC methods of the queue service."""

    TAKE = "queue.take"
    BLOCK = "queue.block"
    MERGE = "queue.merge"


class Congestion(enum.StrEnum):
    """混雑 lamp: calm ≤ busy_from_minutes < busy < crowded_from_minutes ≤ crowded (catalog `queue`)."""

    CALM = "calm"
    BUSY = "busy"
    CROWDED = "crowded"


class RefusalKind(enum.StrEnum):
    """`QueueRefusal.kind` values the central sends (kiosks treat an unknown kind like `invalid`)."""

    OUTSIDE_HOURS = "outside_hours"
    UNKNOWN_CATEGORY = "unknown_category"
    CATEGORY_CLOSED = "category_closed"
    CONCIERGE_ONLY = "concierge_only"
    DAILY_CAP = "daily_cap"
    UNKNOWN_COUNTER = "unknown_counter"
    RATE_LIMITED = "rate_limited"  # this kiosk asked too often: retry after `retry_after_s`
    UNKNOWN_DEVICE = "unknown_device"  # the central has no birth of this kiosk (or it is revoked)
    UNKNOWN_BRANCH = "unknown_branch"  # the kiosk reported no branch, or the branch issues no tickets
    NOT_FOUND = "not_found"  # queue.merge before queue.block
    INVALID = "invalid"
    VISIT_CODE_INVALID = (
        "visit_code_invalid"  # a forged or expired web guide visit code (one answer for both)
    )


class TakeParams(Message):
    """A resident asks for a number: the category chosen on the kiosk, and the resident's language (for the
    printed ticket and the status page link; never stored with anything personal). `then`: further counters
    to visit afterwards (e.g. from the procedure guide), in order."""

    category: CategoryId
    language: LanguageCode = "ja"
    then: list[Identifier] = Field(default_factory=list, max_length=11)
    visit_code: str | None = Field(
        default=None,
        max_length=200,
        description="web guide visit code (scanned /guide/v/<code>): the central derives category and then",
    )


class CounterStop(Message):
    """One counter of the visit, in visit order (names come from the kiosk's own catalog by id)."""

    counter: Identifier
    department: Identifier | None = None
    floor: int | None = Field(default=None, ge=-5, le=60, description="as the catalog's counter says")
    number: str | None = Field(default=None, max_length=10, description="the counter number on the sign")


class TicketView(Message):
    """What the kiosk prints: the number, where to go in order, people ahead, the wait as a range."""

    number: TicketNumber
    category: CategoryId
    counters: list[CounterStop] = Field(min_length=1, max_length=12)
    people_ahead: int = Field(ge=0)
    wait_min_minutes: int = Field(ge=0)
    wait_max_minutes: int = Field(ge=0)
    issued_at: EpochMillis
    status_token: str = Field(min_length=22, max_length=128, description="≥128 random bits, shown once (QR)")
    status_url: str = Field(
        max_length=512, description="page to follow the visit from a phone, token included"
    )
    expires_at: EpochMillis = Field(description="end of the business day: the token stops working")
    offline: bool = Field(default=False, description="issued by the kiosk from its own block")


class QueueRefusal(Message):
    """Why no number was issued (RpcError data): kind as `central_broker.queue.QueueErrorKind`."""

    kind: str = Field(min_length=1, max_length=32)
    message: str = Field(max_length=500)
    hint: str = Field(default="", max_length=500)
    retry_after_s: int | None = Field(default=None, ge=0, description="rate_limited: when to ask again")

    @classmethod
    def from_error(cls, error: RpcError | None) -> QueueRefusal | None:
        """The refusal inside an `RpcError` of code `refused`; None for any other error."""
        if error is None or error.code is not RpcErrorCode.REFUSED or not isinstance(error.data, dict):
            return None
        try:
            return cls.model_validate(error.data)
        except ValueError:
            return None

    def to_data(self) -> dict[str, Any]:
        """The `RpcError.data` form."""
        return self.model_dump(mode="json", exclude_none=True)


class BlockParams(Message):
    """The kiosk asks for its offline block (once; the answer does not change for a kiosk and branch)."""


class BlockView(Message):
    """Numbers `first`…`last` of every prefix are the kiosk's alone, every day."""

    block: int = Field(ge=1)
    first: int = Field(ge=1)
    last: int = Field(ge=1)


class OfflineTicketIn(Message):
    """A ticket the kiosk printed while the central was unreachable, as it journaled it."""

    number: TicketNumber
    category: CategoryId
    issued_at: EpochMillis
    token_hash: TokenHash | None = None
    then: list[Identifier] = Field(default_factory=list, max_length=11)


class MergeParams(Message):
    """Offline tickets to merge, oldest first (a batch; resubmitting is harmless)."""

    tickets: list[OfflineTicketIn] = Field(min_length=1, max_length=200)


class MergeResult(enum.StrEnum):
    """Outcome of one offline ticket (as `central_broker.queue.MergeOutcome`)."""

    MERGED = "merged"
    DUPLICATE = "duplicate"
    EXPIRED = "expired"
    REJECTED = "rejected"


class MergeItem(Message):
    """One ticket's outcome: the kiosk drops it from its journal unless the answer is missing."""

    number: TicketNumber
    outcome: MergeResult
    reason: str = Field(default="", max_length=300)


class MergeView(Message):
    """Outcomes in the order submitted."""

    results: list[MergeItem]


class CategoryLamp(Message):
    """One category's lamp and its current wait range at the first counter."""

    category: CategoryId
    level: Congestion
    waiting: int = Field(ge=0)
    wait_min_minutes: int = Field(ge=0)
    wait_max_minutes: int = Field(ge=0)
    closed: bool = False


class CongestionView(Message):
    """Retained on `down/queue`: the branch's lamps, newest `at` wins (re-sent at least every minute, so a
    view much older than that means the central is not publishing)."""

    branch: str = Field(min_length=1, max_length=64)
    at: EpochMillis
    categories: list[CategoryLamp]
    issuing: bool = Field(
        default=True, description="False outside the queue's opening hours (queue.take refuses)"
    )
    opening_time: str | None = Field(
        default=None,
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="Japan time the branch's business day starts (HH:MM, the central's `[queue] opening_time`; "
        "00:00 when it issues at every hour): the kiosk numbers offline tickets by it, its own "
        "kiosk.toml value only until the first view arrives. Absent from older centrals",
    )
