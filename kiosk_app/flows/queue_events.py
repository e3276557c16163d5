"""Events and the command of the 整理券 flow (visit numbers, docs/queue.md).

The runner answers `TakeTicket` with exactly one of `TicketIssued` (online or offline, printed or not),
`TicketRefused` (the central said no, with its reason) or `TicketUnavailable` (neither the central nor the
kiosk's own block can issue). `CongestionChanged` carries the retained 混雑 lamps whenever they change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk_app.flows.core import Command, Event, UserAction
from madoguchi.contracts.queue import CongestionView

__all__ = [
    "ChooseCategory",
    "CongestionChanged",
    "IssuedTicket",
    "TakeTicket",
    "TicketIssued",
    "TicketRefused",
    "TicketStop",
    "TicketUnavailable",
]


@dataclass(frozen=True)
class TicketStop:
    """One counter of the visit in order (names and floor shown from the catalog by id)."""

    counter: str
    floor: int | None = None
    number: str | None = None


@dataclass(frozen=True)
class IssuedTicket:
    """What the done screen shows about the ticket just issued (no token: it is only on paper)."""

    number: str
    category: str
    stops: tuple[TicketStop, ...]
    people_ahead: int | None = None  # None: unknown (an offline ticket before any congestion view)
    wait_min_minutes: int | None = None
    wait_max_minutes: int | None = None
    offline: bool = False
    printed: bool = True
    print_problem: str = ""  # the printer's problem code when `printed` is False
    status_token: str | None = field(default=None, repr=False)  # online tickets: for 書かない窓口's hand-over


@dataclass(frozen=True)
class ChooseCategory(UserAction):
    """The resident tapped a category button."""

    category: str


@dataclass(frozen=True)
class TicketIssued(Event):
    """A number was issued (and printed unless `ticket.printed` is False)."""

    ticket: IssuedTicket


@dataclass(frozen=True)
class TicketRefused(Event):
    """The central refused: `kind` (`RefusalKind`; unknown kinds are shown as `invalid`) and its message."""

    kind: str
    detail: str = ""


@dataclass(frozen=True)
class TicketUnavailable(Event):
    """No number could be issued: the central is unreachable and the kiosk has no usable block."""

    reason: str


@dataclass(frozen=True)
class CongestionChanged(Event):
    """The retained 混雑 lamps of the kiosk's branch (None: forgotten, e.g. cleared by the central)."""

    view: CongestionView | None


@dataclass(frozen=True)
class TakeTicket(Command):
    """Take a number for `category` (online, else from the kiosk's block) and print it in `language`.

    `then`: further counters of the visit in order (the procedure guide). `visit_code`: a web guide's visit
    code; the central derives the category and counters from it (never issued offline).
    """

    category: str
    language: str
    then: tuple[str, ...] = ()
    visit_code: str | None = None
