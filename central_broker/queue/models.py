"""Values of the queue package: states, configuration, visits, estimates and the refusals staff and kiosks see."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import time

from central_broker.queue.days import OFFLINE_BLOCK_SIZE
from madoguchi.errors import ConfigError, UserError

__all__ = [
    "CongestionLevel",
    "Desk",
    "Estimate",
    "EventKind",
    "NoShowPolicy",
    "QueueConfig",
    "QueueError",
    "QueueErrorKind",
    "QueueEvent",
    "Staff",
    "Stop",
    "StopState",
    "TakenTicket",
    "TicketSource",
    "Visit",
    "VisitState",
]


class VisitState(enum.StrEnum):
    """Where a visit stands as a whole."""

    ACTIVE = "active"  # waiting, called or being served somewhere on its route
    FINISHED = "finished"  # every counter done (or staff finished it)
    CANCELLED = "cancelled"  # no-show cancelled, withdrawn by staff, or an offline ticket of a past day


class StopState(enum.StrEnum):
    """One counter on a visit's route."""

    PENDING = "pending"  # a later counter: not in its line yet
    WAITING = "waiting"  # in the counter's line
    CALLED = "called"  # called to the counter (recalls keep it here)
    SERVING = "serving"  # staff started
    DONE = "done"
    SKIPPED = "skipped"  # transferred away, or dropped when the visit was finished or cancelled


ENDED_STOPS = (StopState.DONE.value, StopState.SKIPPED.value)


class TicketSource(enum.StrEnum):
    """Who numbered the visit."""

    KIOSK = "kiosk"  # central numbering, asked by a kiosk
    CONCIERGE = "concierge"  # central numbering, asked by reception staff
    OFFLINE = "offline"  # numbered by a kiosk from its offline block, merged later


class NoShowPolicy(enum.StrEnum):
    """What a no-show does once the recalls are used up."""

    REQUEUE = "requeue"  # back of the same counter's line
    CANCEL = "cancel"  # the visit is cancelled


class CongestionLevel(enum.StrEnum):
    """混雑 lamp of a category (Tosu: ≤20 / 20–40 / ≥40 min by default)."""

    CALM = "calm"
    BUSY = "busy"
    CROWDED = "crowded"


class EventKind(enum.StrEnum):
    """Journal entries of `queue_event`."""

    ISSUED = "issued"
    MERGED = "merged"  # an offline ticket arrived at the centre
    EXPIRED = "expired"  # an offline ticket of a past day: kept, cancelled
    OFFLINE_REFUSED = "offline_refused"  # an offline ticket the centre could not merge (staff serve it)
    CALLED = "called"
    RECALLED = "recalled"
    NO_SHOW = "no_show"
    REQUEUED = "requeued"
    STARTED = "started"
    DONE = "done"
    MOVED = "moved"  # entered the next counter's line
    TRANSFERRED = "transferred"
    COUNTER_ADDED = "counter_added"
    FINISHED = "finished"
    CANCELLED = "cancelled"
    DESK_OPENED = "desk_opened"
    DESK_CLOSED = "desk_closed"
    CATEGORY_CLOSED = "category_closed"
    CATEGORY_OPENED = "category_opened"


class QueueErrorKind(enum.StrEnum):
    """Why the queue refused; the RPC and web layers map these to their codes and texts."""

    UNKNOWN_CATEGORY = "unknown_category"
    CATEGORY_CLOSED = "category_closed"
    CONCIERGE_ONLY = "concierge_only"
    OUTSIDE_HOURS = "outside_hours"
    DAILY_CAP = "daily_cap"
    UNKNOWN_COUNTER = "unknown_counter"
    COUNTER_NOT_OPEN = "counter_not_open"
    OTHER_BRANCH = "other_branch"
    DOUBLE_CALL = "double_call"
    NOTHING_CALLED = "nothing_called"
    WRONG_STATE = "wrong_state"
    VISIT_ENDED = "visit_ended"
    NOT_FOUND = "not_found"
    INVALID = "invalid"


class QueueError(UserError):
    """A refused queue operation: `kind` for programs, message and hint for people."""

    def __init__(self, kind: QueueErrorKind, message: str, hint: str = "") -> None:
        super().__init__(message, hint)
        self.kind = kind


@dataclass(frozen=True)
class QueueConfig:
    """Operating settings of the queue (not in the catalog).

    Args:
        opening_time: Japan time the branch opens; numbering restarts at it (`A-1` again).
        closing_time: no tickets are issued at or after it (nor before opening).
        default_service_minutes: service time per person before a counter has recorded any.
        service_minutes: per counter id, overrides `default_service_minutes`.
        service_window: the last N services of a counter (today) make its recent service time.
        daily_cap: per category id, the most tickets issued centrally in a day (offline tickets still merge).
        default_daily_cap: for categories not in `daily_cap`; at most `OFFLINE_BLOCK_SIZE - 1`.
        no_show_recalls: recalls allowed before `no_show` applies `no_show_policy`.
        no_show_policy: back of the line or cancelled.
        closed_categories: category ids not issued at all (besides ones closed at run time).
    """

    opening_time: time = time(8, 30)
    closing_time: time = time(17, 15)
    default_service_minutes: float = 10.0
    service_minutes: dict[str, float] = field(default_factory=dict)
    service_window: int = 10
    daily_cap: dict[str, int] = field(default_factory=dict)
    default_daily_cap: int = 999
    no_show_recalls: int = 2
    no_show_policy: NoShowPolicy = NoShowPolicy.REQUEUE
    closed_categories: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for category, cap in {"(default)": self.default_daily_cap, **self.daily_cap}.items():
            if not 0 <= cap < OFFLINE_BLOCK_SIZE:
                raise ConfigError(
                    f"daily cap {cap} of queue category {category} is outside 0…{OFFLINE_BLOCK_SIZE - 1}",
                    f"central numbers stay below {OFFLINE_BLOCK_SIZE}; offline blocks start there",
                )
        if self.closing_time <= self.opening_time:
            raise ConfigError(
                f"queue closing time {self.closing_time:%H:%M} is not after opening {self.opening_time:%H:%M}",
                "set closing_time later than opening_time",
            )
        if self.no_show_recalls < 0 or self.service_window < 1 or self.default_service_minutes <= 0:
            raise ConfigError("queue no_show_recalls, service_window or default_service_minutes out of range")

    def cap_for(self, category: str) -> int:
        """The daily cap of a category."""
        return self.daily_cap.get(category, self.default_daily_cap)

    def default_service_for(self, counter: str) -> float:
        """Minutes per person at a counter before there is data."""
        return self.service_minutes.get(counter, self.default_service_minutes)


@dataclass(frozen=True)
class Desk:
    """A counter at a branch (counter ids come from the catalog; every branch has its own desks)."""

    branch: str
    counter: str


@dataclass(frozen=True)
class Staff:
    """Who is working a counter, and at which branch they are signed in."""

    user: str
    branch: str


@dataclass(frozen=True)
class Stop:
    """One counter of a visit's route."""

    seq: int
    counter: str
    department: str
    state: StopState
    entered_at: int | None
    first_called_at: int | None
    called_at: int | None
    recalls: int
    started_at: int | None
    done_at: int | None


@dataclass(frozen=True)
class Visit:
    """A visit: one number for the day and branch, and its route of counters."""

    id: int
    branch: str
    day: str
    number: str
    prefix: str
    n: int
    category: str
    state: VisitState
    source: TicketSource
    device_id: str | None
    issued_at: int
    ended_at: int | None
    stops: tuple[Stop, ...]

    @property
    def current(self) -> Stop | None:
        """The stop the resident is at now (waiting, called or served); None once the visit ended."""
        for stop in self.stops:
            if stop.state in (StopState.WAITING, StopState.CALLED, StopState.SERVING):
                return stop
        return None

    @property
    def next_stops(self) -> tuple[Stop, ...]:
        """Counters still to come after the current one."""
        return tuple(s for s in self.stops if s.state is StopState.PENDING)

    @property
    def route(self) -> tuple[str, ...]:
        """Counter ids in visit order (skipped ones left out)."""
        return tuple(s.counter for s in self.stops if s.state is not StopState.SKIPPED)


@dataclass(frozen=True)
class Estimate:
    """Wait at a counter: people ahead and a range in minutes (never a single number)."""

    counter: str
    people_ahead: int
    lower_minutes: int
    upper_minutes: int
    service_minutes: float  # recent service time per person used
    from_data: bool  # False: the configured default (no services recorded yet)

    @property
    def middle_minutes(self) -> float:
        """People ahead × recent service time (what the congestion level is judged on)."""
        return self.people_ahead * self.service_minutes


@dataclass(frozen=True)
class TakenTicket:
    """What a kiosk prints: the visit, the wait at its first counter, and the status-page token."""

    visit: Visit
    estimate: Estimate
    token: str  # shown once (QR); the centre keeps only its hash
    token_expires: int


@dataclass(frozen=True)
class QueueEvent:
    """One journal entry."""

    id: int
    branch: str
    day: str
    at: int
    kind: EventKind
    visit_id: int | None
    number: str | None
    counter: str | None
    actor: str
    detail: str
