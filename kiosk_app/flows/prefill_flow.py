"""書かない窓口 (issue 19 item 3): with consent, read the card's 券面事項入力補助AP to prefill forms.

Entry point for the procedure guide: its ticket-done screen offers the button when a routed procedure has a
`form`, and hands over the procedure ids and the `TicketView` just taken (or None) with
`PrefillFlow.start_event(procedures, ticket, language)`; the controller starts the flow with it.

consent (what is read, what is not) → card → tries left → PIN (own 4 digits; tries shown; a wrong PIN comes
back to the keypad, never retried by itself; at 1 or 0 tries the card is not tried: counter) → read →
print on A4 or attach to the visit (counter staff see it once called) → done. The card data stays in the
runner; a card pulled before the read finished, a cancel or a timeout wipe it (`WipePrefill`) and the screen.
One anonymous `prefill_session` record per session (outcome, target, language).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from kiosk_app.flows import commands as cmd
from kiosk_app.flows import events as ev
from kiosk_app.flows import prefill_events as pe
from kiosk_app.flows.clock import Clock
from kiosk_app.flows.core import RESUME, Command, Event, Machine, MachineSpec, StateSpec, TimedOut, Transition
from kiosk_app.flows.issuance_context import new_ref
from kiosk_app.flows.staff_call import handle_calling_staff
from kiosk_app.flows.stats import AbortReason, Outcome
from madoguchi.contracts.languages import DEFAULT_LANGUAGE

__all__ = [
    "KIND",
    "HandedTicket",
    "PrefillContext",
    "PrefillFlow",
    "PrefillSettings",
    "PrefillStep",
    "PrefillView",
]

_logger = logging.getLogger(__name__)

KIND = "prefill_session"
PIN_DIGITS = 4
MIN_TRIES_TO_VERIFY = 2  # the driver sends no VERIFY at 1 try left: the counter resets it instead


class HandedTicket(Protocol):
    """The ticket just taken, as the guide hands it over (`TicketView`, or the flow's `IssuedTicket`).

    `status_token` None (a ticket issued offline) means the data can only be printed."""

    @property
    def number(self) -> str:
        """The visit number on the ticket."""

    @property
    def status_token(self) -> str | None:
        """The ticket's status token (it identifies the visit to the central)."""


class PrefillStep(enum.Enum):
    """Screens (and waits) of the prefill flow."""

    HOME = "home"
    CONSENT = "prefill_consent"
    INSERT_CARD = "prefill_insert_card"
    CHECKING_TRIES = "prefill_checking"
    PIN_ENTRY = "prefill_pin"
    READING = "prefill_reading"
    CHOOSE_TARGET = "prefill_choose"
    PRINTING = "prefill_printing"
    ATTACHING = "prefill_attaching"
    DONE = "prefill_done"
    LOCKED = "prefill_locked"
    CARD_REMOVED = "prefill_card_removed"
    FAILED = "prefill_failed"
    MORE_TIME = "prefill_more_time"


@dataclass(frozen=True)
class PrefillSettings:
    """Timeouts in seconds."""

    idle_timeout_s: float = 60.0
    more_time_s: float = 30.0
    card_timeout_s: float = 20.0
    print_timeout_s: float = 120.0
    central_timeout_s: float = 20.0
    notice_s: float = 30.0
    done_s: float = 30.0


@dataclass
class PrefillContext:
    """One resident's prefill session; `wipe()` forgets everything personal (the PIN, the masked name)."""

    settings: PrefillSettings
    make_ref: Callable[[], str] = new_ref
    language: str = DEFAULT_LANGUAGE
    active: bool = False
    ref: str = ""
    procedures: tuple[str, ...] = ()
    status_token: str | None = field(default=None, repr=False)
    number: str | None = None
    card_present: bool = False
    pin: list[str] = field(default_factory=list, repr=False)
    tries_left: int | None = None
    pin_error: bool = False
    masked_name: str = field(default="", repr=False)
    target: pe.PrefillTarget | None = None
    problem: str = ""
    attached_number: str = ""

    def begin(self, start: pe.StartPrefill) -> None:
        """A fresh session for the procedures and ticket the guide handed over."""
        self.wipe()
        self.active, self.ref = True, self.make_ref()
        self.procedures, self.status_token, self.number = start.procedures, start.status_token, start.number
        self.language = start.language

    def clear_pin(self) -> None:
        """Overwrite and drop the typed digits."""
        for index in range(len(self.pin)):
            self.pin[index] = "0"
        self.pin.clear()

    def wipe(self) -> None:
        """Forget the session (the card data on the runner side goes with `WipePrefill`)."""
        self.clear_pin()
        self.masked_name, self.tries_left, self.pin_error = "", None, False
        self.target, self.problem, self.attached_number = None, "", ""
        self.status_token, self.number, self.procedures = None, None, ()

    def end(self, outcome: Outcome, reason: AbortReason | None = None) -> list[Command]:
        """The anonymous record and the runner's wipe; then forget the session."""
        if not self.active:
            return []
        stats = pe.PrefillStats(
            kind=KIND,
            outcome=outcome,
            language=self.language,
            step_seconds=(),
            abort_reason=reason,
            target=self.target.value if self.target is not None else None,
        )
        ref = self.ref
        self.wipe()
        self.active = False
        return [pe.WipePrefill(ref), cmd.EmitStatistic(stats)]

    def card_gone(self) -> list[Command]:
        """The card left before the read finished: nothing read may stay (screen and runner)."""
        self.clear_pin()
        self.masked_name = ""
        return [pe.WipePrefill(self.ref)]


S = PrefillStep
Ctx = PrefillContext
Row = Transition[S, Ctx, Any]
IDLE = frozenset({S.CONSENT, S.INSERT_CARD, S.PIN_ENTRY, S.CHOOSE_TARGET})
NOTICES = {
    S.DONE: (Outcome.COMPLETED, None),
    S.LOCKED: (Outcome.ABORTED, AbortReason.PIN_LOCKED),
    S.CARD_REMOVED: (Outcome.ABORTED, AbortReason.CARD_REMOVED),
    S.FAILED: (Outcome.FAILED, None),
}
CARD_WAITS = frozenset({S.CHECKING_TRIES, S.READING})
CARD_GONE = frozenset({"card.removed", "card.absent"})  # CardUnreadable codes meaning the card left
EXTENDABLE = IDLE | frozenset(NOTICES) | {S.MORE_TIME}


def _ender(outcome: Outcome, reason: AbortReason | None) -> Callable[[Ctx, object], Sequence[Command]]:
    return lambda c, e: c.end(outcome, reason)


def _problem(problem: str) -> Callable[[Ctx, object], list[Command]]:
    def action(c: Ctx, e: object) -> list[Command]:
        c.problem = getattr(e, "problem", "") or getattr(e, "reason", "") or problem
        return []

    return action


def _read(c: Ctx) -> list[Command]:
    pin = "".join(c.pin)
    c.clear_pin()
    return [pe.ReadBasicFour(c.ref, pin)]


def _target_ok(c: Ctx, e: pe.ChoosePrefillTarget) -> bool:
    return e.target is pe.PrefillTarget.PRINT or c.status_token is not None


def _wrong_pin(c: Ctx, e: pe.KenhojoPinWrong) -> None:
    c.tries_left, c.pin_error = e.tries_left, True


def _states() -> list[StateSpec[S, Ctx]]:
    timeouts: dict[S, Callable[[Ctx], float]] = {step: (lambda c: c.settings.idle_timeout_s) for step in IDLE}
    timeouts |= {step: (lambda c: c.settings.card_timeout_s) for step in CARD_WAITS}
    timeouts |= {step: (lambda c: c.settings.notice_s) for step in (S.LOCKED, S.CARD_REMOVED, S.FAILED)}
    timeouts |= {
        S.PRINTING: lambda c: c.settings.print_timeout_s,
        S.ATTACHING: lambda c: c.settings.central_timeout_s,
        S.DONE: lambda c: c.settings.done_s,
        S.MORE_TIME: lambda c: c.settings.more_time_s,
    }
    enter: dict[S, Callable[[Ctx], list[Command]]] = {
        S.CHECKING_TRIES: lambda c: [pe.ReadKenhojoTries(c.ref)],
        S.READING: _read,
        S.PRINTING: lambda c: [pe.PrintPrefillForms(c.ref, c.procedures, c.language)],
        S.ATTACHING: lambda c: [pe.AttachPrefill(c.ref, c.status_token or "", c.procedures)],
        S.DONE: lambda c: [cmd.PlayCue("take_card")],
    }
    return [
        StateSpec(step, timeouts.get(step), enter.get(step), step is S.MORE_TIME, step in EXTENDABLE)
        for step in S
    ]


def _transitions() -> list[Row]:
    present = lambda c, e: c.card_present  # noqa: E731
    rows: list[Row] = [
        Row(S.HOME, pe.StartPrefill, S.CONSENT, lambda c, e: bool(e.procedures), lambda c, e: c.begin(e)),
        Row(S.CONSENT, ev.Confirm, S.CHECKING_TRIES, present),
        Row(S.CONSENT, ev.Confirm, S.INSERT_CARD),
        Row(S.CONSENT, ev.Back, S.HOME, None, _ender(Outcome.ABORTED, AbortReason.CANCELLED)),
        Row(S.INSERT_CARD, ev.CardInserted, S.CHECKING_TRIES, None, lambda c, e: setattr(c, "card_present", True)),
        Row(S.INSERT_CARD, ev.Back, S.CONSENT),
        Row(S.CHECKING_TRIES, pe.KenhojoTriesRead, S.PIN_ENTRY, lambda c, e: e.tries_left >= MIN_TRIES_TO_VERIFY,
            lambda c, e: setattr(c, "tries_left", e.tries_left)),
        Row(S.CHECKING_TRIES, pe.KenhojoTriesRead, S.LOCKED, None, lambda c, e: setattr(c, "tries_left", e.tries_left)),
        Row(S.PIN_ENTRY, ev.Digit, None, lambda c, e: e.digit.isdigit() and len(c.pin) < PIN_DIGITS,
            lambda c, e: c.pin.append(e.digit)),
        Row(S.PIN_ENTRY, ev.Erase, None, lambda c, e: bool(c.pin), lambda c, e: _erase(c)),
        Row(S.PIN_ENTRY, ev.Confirm, S.READING, lambda c, e: len(c.pin) == PIN_DIGITS),
        Row(S.PIN_ENTRY, ev.Back, S.CONSENT, None, lambda c, e: c.clear_pin()),
        Row(S.READING, pe.BasicFourRead, S.CHOOSE_TARGET, None, lambda c, e: setattr(c, "masked_name", e.masked_name)),
        Row(S.READING, pe.KenhojoPinWrong, S.PIN_ENTRY, lambda c, e: e.tries_left >= MIN_TRIES_TO_VERIFY, _wrong_pin),
        Row(S.READING, pe.KenhojoPinWrong, S.LOCKED, None, _wrong_pin),
        Row(S.READING, pe.KenhojoLocked, S.LOCKED),
        Row(S.CHOOSE_TARGET, pe.ChoosePrefillTarget, S.PRINTING,
            lambda c, e: e.target is pe.PrefillTarget.PRINT, lambda c, e: setattr(c, "target", e.target)),
        Row(S.CHOOSE_TARGET, pe.ChoosePrefillTarget, S.ATTACHING, _target_ok,
            lambda c, e: setattr(c, "target", e.target)),
        Row(S.PRINTING, ev.PrintDone, S.DONE),
        Row(S.PRINTING, ev.PrintFailed, S.FAILED, None, _problem("print_failed")),
        Row(S.PRINTING, TimedOut, S.FAILED, None, _problem("print_timeout")),
        Row(S.ATTACHING, pe.PrefillAttached, S.DONE, None, lambda c, e: setattr(c, "attached_number", e.number)),
        Row(S.ATTACHING, pe.PrefillAttachFailed, S.FAILED, None, _problem("unavailable")),
        Row(S.ATTACHING, TimedOut, S.FAILED, None, _problem("unavailable")),
        # The card leaves before its data is read: nothing read stays, on screen or in the runner.
        Row(frozenset(CARD_WAITS | {S.PIN_ENTRY}), ev.CardRemoved, S.CARD_REMOVED,
            None, lambda c, e: [*c.card_gone(), *_set_absent(c)]),
        Row(frozenset(CARD_WAITS), ev.CardUnreadable, S.CARD_REMOVED, lambda c, e: e.problem in CARD_GONE,
            lambda c, e: [*c.card_gone(), *_set_absent(c)]),
        Row(frozenset(CARD_WAITS), ev.CardUnreadable, S.FAILED, None,
            lambda c, e: [*c.card_gone(), *_problem("card_unreadable")(c, e)]),
        Row(frozenset(CARD_WAITS), TimedOut, S.FAILED, None, lambda c, e: [*c.card_gone(), *_timed_out(c)]),
        Row(S.MORE_TIME, ev.MoreTime, RESUME),
        Row(S.MORE_TIME, ev.Back, RESUME),
        Row(S.MORE_TIME, TimedOut, S.HOME, None, _ender(Outcome.ABORTED, AbortReason.IDLE_TIMEOUT)),
        Row(S.MORE_TIME, ev.Cancel, S.HOME, None, _ender(Outcome.ABORTED, AbortReason.CANCELLED)),
    ]  # fmt: skip
    for step, (outcome, reason) in NOTICES.items():
        for event in (ev.Confirm, ev.Cancel, TimedOut):
            rows.append(Row(step, event, S.HOME, None, _ender(outcome, reason)))
    rows += [
        Row(frozenset(IDLE | CARD_WAITS), ev.Cancel, S.HOME, None, _ender(Outcome.ABORTED, AbortReason.CANCELLED)),
        Row(frozenset(IDLE), TimedOut, S.MORE_TIME),
        Row(frozenset(set(S) - {S.HOME}), ev.CardInserted, None, None, lambda c, e: setattr(c, "card_present", True)),
        Row(frozenset(set(S) - {S.HOME}), ev.CardRemoved, None, None, lambda c, e: setattr(c, "card_present", False)),
    ]  # fmt: skip
    return rows


def _erase(c: Ctx) -> None:
    c.pin.pop()


def _set_absent(c: Ctx) -> list[Command]:
    c.card_present = False
    return []


def _timed_out(c: Ctx) -> list[Command]:
    c.problem = "card_timeout"
    return []


def build_prefill_spec() -> MachineSpec[S, Ctx]:
    """The machine specification of the prefill flow."""
    return MachineSpec(_states(), _transitions(), S.HOME)


@dataclass(frozen=True)
class PrefillView:
    """What the prefill screens show (never the card data: only the masked name once read)."""

    step: PrefillStep
    time_left: float | None
    language: str = DEFAULT_LANGUAGE
    procedures: tuple[str, ...] = ()
    pin_length: int = 0
    pin_digits: int = PIN_DIGITS
    tries_left: int | None = None
    pin_error: bool = False
    masked_name: str = ""
    can_attach: bool = False
    number: str | None = None
    target: pe.PrefillTarget | None = None
    problem: str = ""
    interrupted: PrefillStep | None = None


class PrefillFlow:
    """The prefill flow; feed events with `handle()`, draw from `view()`."""

    def __init__(
        self,
        clock: Clock,
        settings: PrefillSettings | None = None,
        *,
        make_ref: Callable[[], str] = new_ref,
    ) -> None:
        self.context = PrefillContext(settings=settings or PrefillSettings(), make_ref=make_ref)
        self.machine: Machine[PrefillStep, PrefillContext] = Machine(
            build_prefill_spec(), self.context, clock
        )

    @staticmethod
    def start_event(
        procedures: Sequence[str], ticket: HandedTicket | None, language: str = DEFAULT_LANGUAGE
    ) -> pe.StartPrefill:
        """The event that starts the flow for the guide's procedures with a form and the ticket just taken."""
        return pe.StartPrefill(
            tuple(procedures),
            ticket.status_token if ticket is not None else None,
            ticket.number if ticket is not None else None,
            language,
        )

    @property
    def step(self) -> PrefillStep:
        """The current step."""
        return self.machine.state

    def handle(self, event: Event) -> list[Command]:
        """Process one event; return the commands for the runner."""
        return handle_calling_staff(self.machine, event)

    def view(self) -> PrefillView:
        """A snapshot for the screen."""
        c = self.context
        return PrefillView(
            step=self.machine.state,
            time_left=self.machine.time_left(),
            language=c.language,
            procedures=c.procedures,
            pin_length=len(c.pin),
            tries_left=c.tries_left,
            pin_error=c.pin_error,
            masked_name=c.masked_name,
            can_attach=c.status_token is not None,
            number=c.attached_number or c.number,
            target=c.target,
            problem=c.problem,
            interrupted=self.machine.interrupted,
        )
