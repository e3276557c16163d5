"""A small declarative state machine: states with timeouts, guarded transitions, commands out, events in.

A flow is a table of `StateSpec`s and `Transition`s. The machine holds no threads and does no I/O:
`handle(event)` returns the `Command`s an outside runner must execute, and that runner feeds the
results back as events. Time comes from an injected clock; a `Tick` event checks the current state's
deadline and, once it has passed, dispatches `TimedOut`. Any `UserAction` counts as activity and
re-arms the deadline of the state the resident is looking at.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from kiosk_app.flows.clock import Clock

__all__ = [
    "ANY_STATE",
    "RESUME",
    "Command",
    "Event",
    "FlowDefinitionError",
    "Machine",
    "MachineSpec",
    "StateSpec",
    "Tick",
    "TimedOut",
    "Transition",
    "UserAction",
]

_logger = logging.getLogger(__name__)

S = TypeVar("S", bound=enum.Enum)
C = TypeVar("C")
E = TypeVar("E", bound="Event")


@dataclass(frozen=True)
class Event:
    """Something that happened: a device result, a user action, a tick of the clock."""


@dataclass(frozen=True)
class UserAction(Event):
    """An event caused by the resident touching the screen or keypad; re-arms the idle deadline."""


@dataclass(frozen=True)
class Tick(Event):
    """Sent by the runner a few times a second so the machine can notice passed deadlines."""


@dataclass(frozen=True)
class TimedOut(Event):
    """The current state's deadline passed (dispatched by the machine itself on a `Tick`)."""

    state: str


@dataclass(frozen=True)
class Command:
    """Something the runner must do (read the card, start a payment, print, play a sound …)."""


class _Marker(enum.Enum):
    ANY_STATE = "any state"
    RESUME = "resume the interrupted state"


ANY_STATE = _Marker.ANY_STATE
RESUME = _Marker.RESUME

Timeout = float | Callable[[Any], float] | None


class FlowDefinitionError(ValueError):
    """The state/transition table is inconsistent (a programming error, caught at construction)."""


@dataclass(frozen=True)
class StateSpec(Generic[S, C]):
    """A state: its timeout (seconds, or a function of the context) and the commands run on entry.

    `modal` states (a "more time?" prompt) remember the state they interrupted; a transition to
    `RESUME` returns there without running that state's entry commands again.

    `extendable`: the timeout waits for the resident (a choice, a notice to read), not for a device or
    the central. The screen then offers 時間を延長 (any `UserAction` re-arms the deadline) and counts
    down, and a staff call holds the timeout (`Machine.held`). Device waits are watchdogs: never
    extendable, never held.
    """

    state: S
    timeout: float | Callable[[C], float] | None = None
    on_enter: Callable[[C], Sequence[Command]] | None = None
    modal: bool = False
    extendable: bool = False


@dataclass(frozen=True)
class Transition(Generic[S, C, E]):
    """On event type `on` in `source`, if `guard` allows: run `action`, then go to `target`.

    `target=None` stays in the state (no exit or entry). The first matching transition wins, so
    more specific guarded rows come before the general ones.
    """

    source: S | frozenset[S] | _Marker
    on: type[E]
    target: S | _Marker | None
    guard: Callable[[C, E], bool] | None = None
    action: Callable[[C, E], Sequence[Command] | None] | None = None

    def sources(self, all_states: Iterable[S]) -> frozenset[S]:
        """The states this row applies to."""
        if self.source is ANY_STATE:
            return frozenset(all_states)
        if isinstance(self.source, frozenset):
            return self.source
        assert not isinstance(self.source, _Marker)
        return frozenset({self.source})

    def matches(self, state: S, context: C, event: Event, all_states: Iterable[S]) -> bool:
        """True when this row fires for `event` in `state`."""
        if not isinstance(event, self.on) or state not in self.sources(all_states):
            return False
        return self.guard is None or self.guard(context, event)


@dataclass(frozen=True)
class MachineSpec(Generic[S, C]):
    """A whole flow: states, transitions in priority order, and a hook told how long each state lasted."""

    states: Sequence[StateSpec[S, C]]
    transitions: Sequence[Transition[S, C, Any]]
    initial: S
    on_exit: Callable[[C, S, float], None] | None = None

    def __post_init__(self) -> None:
        declared = [spec.state for spec in self.states]
        if len(set(declared)) != len(declared):
            raise FlowDefinitionError("a state is declared twice")
        every = set(type(self.initial))
        if set(declared) != every:
            missing = sorted(str(s.value) for s in every - set(declared))
            raise FlowDefinitionError(f"states without a StateSpec: {', '.join(missing)}")
        for spec in self.states:
            if spec.extendable and spec.timeout is None:
                raise FlowDefinitionError(f"{spec.state.name} is extendable but has no timeout")
        for row in self.transitions:
            if row.target is RESUME and not any(
                spec.modal and spec.state in row.sources(every) for spec in self.states
            ):
                raise FlowDefinitionError(f"RESUME used outside a modal state (on {row.on.__name__})")

    def spec(self, state: S) -> StateSpec[S, C]:
        """The `StateSpec` of `state`."""
        return self.by_state[state]

    @property
    def by_state(self) -> Mapping[S, StateSpec[S, C]]:
        """State → spec."""
        return {spec.state: spec for spec in self.states}


class Machine(Generic[S, C]):
    """Runs a `MachineSpec` over a context object; not thread-safe: feed it from one loop."""

    def __init__(self, spec: MachineSpec[S, C], context: C, clock: Clock) -> None:
        self.spec = spec
        self.context = context
        self._clock = clock
        self._specs = spec.by_state
        self._state = spec.initial
        self._entered_at = clock()
        self._deadline: float | None = None
        self._interrupted: S | None = None
        self._interrupted_at = 0.0
        self.fired: list[int] = []  # positions in spec.transitions, in firing order (for tests and traces)
        self._held = False
        self._arm()

    @property
    def state(self) -> S:
        """The current state."""
        return self._state

    @property
    def interrupted(self) -> S | None:
        """The state a modal state interrupted (what `RESUME` returns to), if any."""
        return self._interrupted

    @property
    def extendable(self) -> bool:
        """True when the current state's timeout waits for the resident (時間を延長 is offered)."""
        return self._specs[self._state].extendable

    @property
    def held(self) -> bool:
        """True while a staff call holds the resident's timeouts (extendable states do not time out)."""
        return self._held

    @held.setter
    def held(self, value: bool) -> None:
        if self._held and not value:
            self._arm()  # the hold ends: the resident gets the state's whole time again
        self._held = value

    def time_left(self) -> float | None:
        """Seconds until the current state times out, or None when it has no timeout."""
        if self._deadline is None:
            return None
        return max(0.0, self._deadline - self._clock())

    def handle(self, event: Event) -> list[Command]:
        """Process one event and return the commands to execute, in order."""
        if isinstance(event, Tick):
            if self._held and self._specs[self._state].extendable:
                self._arm()  # staff are on their way: keep the resident's place
                return []
            if self._deadline is None or self._clock() < self._deadline:
                return []
            event = TimedOut(self._state.name)
        commands: list[Command] = []
        if isinstance(event, UserAction):
            self._arm()
        for index, row in enumerate(self.spec.transitions):
            if row.matches(self._state, self.context, event, self._specs):
                self.fired.append(index)
                if row.target is not None:
                    self._exit()  # as in statecharts: exit, then the transition's action, then entry
                if row.action is not None:
                    commands.extend(row.action(self.context, event) or ())
                if row.target is not None:
                    commands.extend(self._enter(row.target))
                return commands
        if isinstance(event, TimedOut):
            self._deadline = None  # nothing handles it: do not fire again on every tick
        _logger.debug("%s ignored in %s", type(event).__name__, self._state.name)
        return commands

    def _exit(self) -> None:
        if self.spec.on_exit is not None:
            self.spec.on_exit(self.context, self._state, self._clock() - self._entered_at)

    def _enter(self, target: S | _Marker) -> list[Command]:
        now = self._clock()
        source = self._state
        if target is RESUME:
            assert self._interrupted is not None
            self._state, self._interrupted = self._interrupted, None
            self._entered_at = now
            self._arm()
            _logger.debug("flow %s -> %s (resumed)", source.name, self._state.name)
            return []
        assert not isinstance(target, _Marker)
        spec = self._specs[target]
        if spec.modal and not self._specs[source].modal:
            self._interrupted = source
        elif not spec.modal:
            self._interrupted = None
        self._state = target
        self._entered_at = now
        self._arm()
        _logger.debug("flow %s -> %s", source.name, target.name)
        return list(spec.on_enter(self.context)) if spec.on_enter is not None else []

    def _arm(self) -> None:
        timeout = self._specs[self._state].timeout
        seconds = timeout(self.context) if callable(timeout) else timeout
        self._deadline = None if seconds is None else self._clock() + seconds
