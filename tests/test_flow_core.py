"""The state-machine core: table checks, deadlines on an injected clock, modal resume, and the event pump."""

from __future__ import annotations

import enum
import threading
from dataclasses import dataclass, field

import pytest

from kiosk_app.flows.clock import FakeClock
from kiosk_app.flows.core import (
    RESUME,
    Command,
    Event,
    FlowDefinitionError,
    Machine,
    MachineSpec,
    StateSpec,
    Tick,
    TimedOut,
    Transition,
    UserAction,
)
from kiosk_app.flows.pump import EventPump


class St(enum.Enum):
    A = "a"
    B = "b"
    PROMPT = "prompt"


@dataclass(frozen=True)
class Go(UserAction):
    pass


@dataclass(frozen=True)
class Ping(Event):
    pass


@dataclass(frozen=True)
class Entered(Command):
    state: str


@dataclass
class Ctx:
    log: list[str] = field(default_factory=list)


def spec(**overrides: object) -> MachineSpec[St, Ctx]:
    states = [
        StateSpec(St.A, timeout=5.0),
        StateSpec(St.B, on_enter=lambda c: [Entered("b")]),
        StateSpec(St.PROMPT, timeout=2.0, modal=True),
    ]
    rows: list[Transition[St, Ctx, object]] = [
        Transition(St.A, Go, St.B),
        Transition(St.A, TimedOut, St.PROMPT),
        Transition(St.PROMPT, Go, RESUME),
        Transition(St.B, Ping, None, lambda c, e: len(c.log) < 1, lambda c, e: c.log.append("ping")),
    ]
    return MachineSpec(overrides.get("states", states), overrides.get("rows", rows), St.A)  # type: ignore[arg-type]


def test_a_state_without_spec_is_refused() -> None:
    """GIVEN a table that forgets a state WHEN it is built THEN it is refused, naming the state."""
    with pytest.raises(FlowDefinitionError, match="prompt"):
        spec(states=[StateSpec(St.A), StateSpec(St.B)])


def test_resume_outside_a_modal_state_is_refused() -> None:
    """GIVEN RESUME from a non-modal state WHEN the table is built THEN it is refused."""
    with pytest.raises(FlowDefinitionError, match="RESUME"):
        spec(rows=[Transition(St.A, Go, RESUME)])


def test_timeout_fires_at_the_deadline_not_before_and_only_once() -> None:
    """GIVEN a 5 s state WHEN 4.99 s pass THEN nothing; at 5 s the prompt; its own 2 s timeout is unhandled and
    does not fire again on later ticks."""
    clock = FakeClock()
    m = Machine(spec(), Ctx(), clock)
    assert m.state is St.A and m.time_left() == 5.0
    clock.advance(4.99)
    assert m.handle(Tick()) == [] and m.state is St.A
    clock.advance(0.01)
    m.handle(Tick())
    assert m.state is St.PROMPT and m.interrupted is St.A
    clock.advance(2)
    fired = len(m.fired)
    m.handle(Tick())
    m.handle(Tick())
    assert m.state is St.PROMPT and len(m.fired) == fired and m.time_left() is None


def test_user_action_rearms_the_deadline_and_resume_skips_entry() -> None:
    """GIVEN the prompt interrupted A WHEN the resident taps THEN A comes back with a fresh 5 s deadline."""
    clock = FakeClock()
    m = Machine(spec(), Ctx(), clock)
    clock.advance(5)
    m.handle(Tick())
    assert m.handle(Go()) == [] and m.state is St.A and m.time_left() == 5.0
    assert m.handle(Go()) == [Entered("b")]


def test_guards_choose_rows_and_internal_rows_keep_the_state() -> None:
    """GIVEN a guarded internal row WHEN its guard turns false THEN the event is ignored."""
    m = Machine(spec(), Ctx(), FakeClock())
    m.handle(Go())
    m.handle(Ping())
    m.handle(Ping())
    assert m.context.log == ["ping"] and m.state is St.B


def test_pump_hands_events_from_a_device_thread_to_the_flow_in_order() -> None:
    """GIVEN events put from another thread WHEN the UI loop drains THEN the flow sees them in order and the
    commands reach the executor; the flow itself is only touched by the draining thread."""
    m = Machine(spec(), Ctx(), FakeClock())
    executed: list[Command] = []
    pump = EventPump(m, executed.append)
    worker = threading.Thread(target=lambda: [pump.put(Go()), pump.put(Ping())])
    worker.start()
    worker.join()
    assert pump.drain() == 2
    assert executed == [Entered("b")] and m.context.log == ["ping"]
