"""The 整理券 flow (visit numbers, R-23–R-26): home → category → number taken and printed → done → home.

Categories come from the catalog (`queue.categories`, concierge-only ones are never offered); the 混雑
lamps and wait ranges come from the central's retained `CongestionView`. A category the central closed
stays on screen, disabled, with the reason. The runner issues the number (online, else from the kiosk's
own block) and prints it; the flow only waits for its answer.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kiosk_app.flows import commands as cmd
from kiosk_app.flows import events as ev
from kiosk_app.flows import queue_events as qe
from kiosk_app.flows.clock import Clock
from kiosk_app.flows.core import RESUME, Command, Event, Machine, MachineSpec, StateSpec, TimedOut, Transition
from kiosk_app.flows.guide_events import VisitCodeScanned
from kiosk_app.flows.staff_call import handle_calling_staff
from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.languages import DEFAULT_LANGUAGE
from madoguchi.contracts.queue import CategoryLamp, CongestionView

__all__ = ["QueueContext", "QueueFlow", "QueueSettings", "QueueStep", "QueueView", "offered_categories"]

_logger = logging.getLogger(__name__)


class QueueStep(enum.Enum):
    """Screens (and the wait) of the ticket flow."""

    HOME = "home"
    CATEGORIES = "queue_categories"
    TAKING = "queue_taking"
    DONE = "queue_done"
    REFUSED = "queue_refused"
    UNAVAILABLE = "queue_unavailable"
    MORE_TIME = "queue_more_time"


@dataclass(frozen=True)
class QueueSettings:
    """Timeouts (seconds) and the categories this kiosk offers (catalog ids, in catalog order)."""

    categories: tuple[str, ...] = ()
    idle_timeout_s: float = 60.0
    more_time_s: float = 30.0
    take_timeout_s: float = 45.0  # watchdog over the runner (the central's deadline, printing)
    notice_s: float = 30.0
    done_s: float = 30.0


def offered_categories(catalog: Catalog | None) -> tuple[str, ...]:
    """Catalog categories a resident may take at a kiosk (concierge-only ones are issued at reception)."""
    if catalog is None:
        return ()
    return tuple(c.id for c in catalog.queue.categories if not c.concierge_only)


@dataclass
class QueueContext:
    """One resident at a time; `lamps` outlive sessions (they come from the central)."""

    settings: QueueSettings
    language: str = DEFAULT_LANGUAGE
    congestion: CongestionView | None = None
    category: str | None = None
    ticket: qe.IssuedTicket | None = None
    refusal_kind: str = ""
    refusal_detail: str = ""
    unavailable_reason: str = ""
    lamps: dict[str, CategoryLamp] = field(default_factory=dict)
    visit_code: str | None = None  # a web guide's visit code scanned at the kiosk

    def begin(self) -> None:
        """Start a fresh session."""
        self.category, self.ticket, self.visit_code = None, None, None
        self.refusal_kind, self.refusal_detail, self.unavailable_reason = "", "", ""

    def closed(self, category: str) -> bool:
        """True when the central says the category issues no numbers now."""
        lamp = self.lamps.get(category)
        return lamp is not None and lamp.closed

    def can_take(self, category: str) -> bool:
        """Offered by this kiosk and not closed."""
        return category in self.settings.categories and not self.closed(category)

    def set_congestion(self, view: CongestionView | None) -> None:
        """New lamps from the central."""
        self.congestion = view
        self.lamps = {} if view is None else {lamp.category: lamp for lamp in view.categories}


S = QueueStep
Ctx = QueueContext
Row = Transition[S, Ctx, Any]
IDLE = frozenset({S.CATEGORIES})
# Timeouts that wait for the resident (時間を延長 offered) and the one device/central wait.
EXTENDABLE = frozenset({S.CATEGORIES, S.DONE, S.REFUSED, S.UNAVAILABLE, S.MORE_TIME})
DEVICE_WAITS = frozenset({S.TAKING})


def _take(c: Ctx) -> list[Command]:
    assert c.category is not None
    return [qe.TakeTicket(c.category, c.language, visit_code=c.visit_code)]


def _scanned(c: Ctx, e: VisitCodeScanned) -> None:
    """A web guide visit code: the central derives category and counters (the first offered is only sent
    because `TakeParams.category` is required)."""
    c.begin()
    c.visit_code, c.category = e.code, c.settings.categories[0]


def _issued(c: Ctx, e: qe.TicketIssued) -> None:
    c.ticket = e.ticket


def _refused(c: Ctx, e: qe.TicketRefused) -> None:
    c.refusal_kind, c.refusal_detail = e.kind, e.detail


def _unavailable(reason: str | None = None) -> Callable[[Ctx, Any], None]:
    def action(c: Ctx, e: Any) -> None:
        c.unavailable_reason = reason or getattr(e, "reason", "") or "unavailable"

    return action


def _states() -> list[StateSpec[S, Ctx]]:
    timeouts: dict[S, Callable[[Ctx], float]] = {
        S.CATEGORIES: lambda c: c.settings.idle_timeout_s,
        S.TAKING: lambda c: c.settings.take_timeout_s,
        S.DONE: lambda c: c.settings.done_s,
        S.REFUSED: lambda c: c.settings.notice_s,
        S.UNAVAILABLE: lambda c: c.settings.notice_s,
        S.MORE_TIME: lambda c: c.settings.more_time_s,
    }
    enter: dict[S, Callable[[Ctx], list[Command]]] = {
        S.TAKING: _take,
        S.DONE: lambda c: [cmd.PlayCue("payment_done")],
    }
    return [
        StateSpec(step, timeouts.get(step), enter.get(step), step is S.MORE_TIME, step in EXTENDABLE)
        for step in S
    ]


def _transitions() -> list[Row]:
    return [
        Row(S.HOME, ev.Start, S.CATEGORIES, None, lambda c, e: c.begin()),
        Row(frozenset({S.HOME, S.CATEGORIES}), VisitCodeScanned, S.TAKING,
            lambda c, e: bool(c.settings.categories), _scanned),
        Row(S.CATEGORIES, qe.ChooseCategory, S.TAKING, lambda c, e: c.can_take(e.category),
            lambda c, e: setattr(c, "category", e.category)),
        Row(S.CATEGORIES, ev.Back, S.HOME),
        Row(S.CATEGORIES, ev.Cancel, S.HOME),
        Row(S.CATEGORIES, TimedOut, S.MORE_TIME),
        Row(S.TAKING, qe.TicketIssued, S.DONE, None, _issued),
        Row(S.TAKING, qe.TicketRefused, S.REFUSED, None, _refused),
        Row(S.TAKING, qe.TicketUnavailable, S.UNAVAILABLE, None, _unavailable()),
        Row(S.TAKING, TimedOut, S.UNAVAILABLE, None, _unavailable("timeout")),
        Row(S.DONE, ev.Confirm, S.HOME),
        Row(S.DONE, TimedOut, S.HOME),
        Row(S.REFUSED, ev.Back, S.CATEGORIES),
        Row(S.REFUSED, ev.Confirm, S.HOME),
        Row(S.REFUSED, ev.Cancel, S.HOME),
        Row(S.REFUSED, TimedOut, S.HOME),
        Row(S.UNAVAILABLE, ev.Confirm, S.HOME),
        Row(S.UNAVAILABLE, ev.Cancel, S.HOME),
        Row(S.UNAVAILABLE, TimedOut, S.HOME),
        Row(S.MORE_TIME, ev.MoreTime, RESUME),
        Row(S.MORE_TIME, ev.Back, RESUME),
        Row(S.MORE_TIME, ev.Cancel, S.HOME),
        Row(S.MORE_TIME, TimedOut, S.HOME),
    ]  # fmt: skip


def build_queue_spec() -> MachineSpec[S, Ctx]:
    """The machine specification of the ticket flow."""
    return MachineSpec(_states(), _transitions(), S.HOME)


@dataclass(frozen=True)
class QueueView:
    """What the ticket screen shows."""

    step: QueueStep
    time_left: float | None
    categories: tuple[str, ...] = ()
    lamps: dict[str, CategoryLamp] = field(default_factory=dict)
    issuing: bool = True  # False: the central says the queue is outside its hours
    category: str | None = None
    ticket: qe.IssuedTicket | None = None
    refusal_kind: str = ""
    refusal_detail: str = ""
    unavailable_reason: str = ""
    interrupted: QueueStep | None = None


class QueueFlow:
    """The ticket flow; feed events with `handle()`, draw from `view()`."""

    def __init__(self, settings: QueueSettings, clock: Clock, language: str = DEFAULT_LANGUAGE) -> None:
        self.context = QueueContext(settings=settings, language=language)
        self.machine: Machine[QueueStep, QueueContext] = Machine(build_queue_spec(), self.context, clock)

    @classmethod
    def for_catalog(cls, catalog: Catalog | None, clock: Clock, *, idle_timeout_s: float = 60.0) -> QueueFlow:
        """The flow with the catalog's kiosk categories."""
        return cls(
            QueueSettings(categories=offered_categories(catalog), idle_timeout_s=idle_timeout_s), clock
        )

    @property
    def step(self) -> QueueStep:
        """The current step."""
        return self.machine.state

    def handle(self, event: Event) -> list[Command]:
        """Process one event; return the commands for the runner."""
        if isinstance(event, qe.CongestionChanged):
            self.context.set_congestion(event.view)
            return []
        return handle_calling_staff(self.machine, event)

    def view(self) -> QueueView:
        """A snapshot for the screen."""
        c = self.context
        return QueueView(
            step=self.machine.state,
            time_left=self.machine.time_left(),
            categories=c.settings.categories,
            lamps=dict(c.lamps),
            issuing=c.congestion.issuing if c.congestion is not None else True,
            category=c.category,
            ticket=c.ticket,
            refusal_kind=c.refusal_kind,
            refusal_detail=c.refusal_detail,
            unavailable_reason=c.unavailable_reason,
            interrupted=self.machine.interrupted,
        )
