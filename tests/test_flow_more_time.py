"""時間を延長 (R-33): every step whose timeout waits for the resident offers it, with a count-down.

Flow level and controller level (what the top bar shows), on a fake clock; no Kivy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pytest

from kiosk_app.flows import commands as cmd
from kiosk_app.flows import events as ev
from kiosk_app.flows.core import Command, StateSpec, Tick
from kiosk_app.flows.issuance_context import Step
from kiosk_app.flows.issuance_states import DEVICE_WAITS, EXTENDABLE
from kiosk_app.flows.register import DEVICE_WAITS as REGISTER_WAITS
from kiosk_app.flows.register import EXTENDABLE as REGISTER_EXTENDABLE
from kiosk_app.flows.register import RegisterStep
from kiosk_app.ui.controller import COUNTDOWN_S, TIME_CUE, KioskController, Service
from tests.flow_helpers import Harness
from tests.test_flow_register import PATHS as REGISTER_PATHS
from tests.test_flow_register import Reg


def _timed(machine_specs: Sequence[StateSpec[Any, Any]]) -> set[Any]:
    return {spec.state for spec in machine_specs if spec.timeout is not None}


def test_every_timed_step_is_either_offered_more_time_or_a_device_wait() -> None:
    """GIVEN both flows' tables THEN each step with a timeout is decided: the resident's (時間を延長 offered)
    or a device/central watchdog, never both, never neither (a new timed step must be classified)."""
    cert = Harness().flow.machine.spec.states
    reg = Reg().flow.machine.spec.states
    assert _timed(cert) == set(EXTENDABLE) | set(DEVICE_WAITS) and not EXTENDABLE & DEVICE_WAITS
    assert _timed(reg) == set(REGISTER_EXTENDABLE) | set(REGISTER_WAITS)
    assert not REGISTER_EXTENDABLE & REGISTER_WAITS
    assert {s.state for s in cert if s.extendable} == set(EXTENDABLE)
    assert {s.state for s in reg if s.extendable} == set(REGISTER_EXTENDABLE)


def _controller(h: Harness) -> tuple[KioskController, list[Command]]:
    executed: list[Command] = []
    controller = KioskController(h.flow, Reg().flow, executed.append, clock=h.clock)
    controller.active = Service.CERTIFICATE
    return controller, executed


@pytest.mark.parametrize("step", sorted(EXTENDABLE, key=lambda s: s.value), ids=lambda s: str(s.value))
def test_certificate_step_offers_more_time_and_it_gives_the_whole_time_again(step: Step) -> None:
    """GIVEN the certificate flow at a step whose timeout waits for the resident, most of its time gone
    WHEN the resident presses 時間を延長 THEN the button was offered, the step (or, from the "more time?"
    prompt, the interrupted step) stays, and its whole time is there again."""
    h = Harness().goto(step)
    controller, _ = _controller(h)
    assert controller.countdown().extendable, f"時間を延長 not offered on {step.value}"
    full = h.flow.machine.time_left()
    assert full is not None
    h.clock.advance(full - 1)
    controller.drain()
    assert h.step is step
    controller.more_time()
    if step is Step.MORE_TIME:
        assert h.step is Step.LANGUAGE  # back where the prompt interrupted
    else:
        assert h.step is step
        assert h.flow.machine.time_left() == pytest.approx(full)
        h.clock.advance(full - 1)
        controller.drain()
        assert h.step is step, "the old deadline still fired"


@pytest.mark.parametrize("step", sorted(DEVICE_WAITS, key=lambda s: s.value), ids=lambda s: str(s.value))
def test_device_waits_do_not_offer_more_time(step: Step) -> None:
    """GIVEN a step that waits for a device or the central THEN 時間を延長 is not offered (nothing the
    resident does makes the terminal or the printer answer sooner)."""
    controller, _ = _controller(Harness().goto(step))
    assert not controller.countdown().extendable


@pytest.mark.parametrize(
    "step", sorted(REGISTER_EXTENDABLE, key=lambda s: s.value), ids=lambda s: str(s.value)
)
def test_register_step_offers_more_time_and_it_gives_the_whole_time_again(step: RegisterStep) -> None:
    """GIVEN the register flow at a step whose timeout waits for the resident WHEN 時間を延長 is pressed
    with a second left THEN the step stays (or the prompt returns to its step) with its whole time."""
    r = Reg()
    r.send(*REGISTER_PATHS[step])
    assert r.flow.step is step
    executed: list[Command] = []
    controller = KioskController(Harness().flow, r.flow, executed.append, clock=r.clock)
    controller.active = Service.REGISTER
    assert controller.countdown().extendable
    full = r.flow.machine.time_left()
    assert full is not None
    r.clock.advance(full - 1)
    controller.more_time()
    if step is RegisterStep.MORE_TIME:
        assert r.flow.step is RegisterStep.SCAN
    else:
        assert r.flow.step is step and r.flow.machine.time_left() == pytest.approx(full)


def test_the_last_seconds_are_counted_down_with_a_chime_once() -> None:
    """GIVEN the PIN step (60 s) WHEN time passes THEN no count-down shows until the last 20 s, then the
    seconds left show and fall each second, and one chime marks its start; 時間を延長 hides it again."""
    h = Harness().goto(Step.PIN_ENTRY)
    controller, executed = _controller(h)
    redraws: list[int | None] = []
    controller.listeners.append(lambda: redraws.append(controller.countdown().seconds_left))
    h.clock.advance(60 - COUNTDOWN_S - 1)
    controller.drain()
    assert controller.countdown().seconds_left is None
    h.clock.advance(1.5)
    controller.drain()
    assert controller.countdown().seconds_left == math.ceil(COUNTDOWN_S - 0.5)
    h.clock.advance(1.0)
    controller.drain()
    assert controller.countdown().seconds_left == math.ceil(COUNTDOWN_S - 1.5)
    assert redraws[-2:] == [COUNTDOWN_S, COUNTDOWN_S - 1]  # the screen was told to redraw each second
    assert executed.count(cmd.PlayCue(TIME_CUE)) == 1
    controller.more_time()
    assert controller.countdown().seconds_left is None and h.step is Step.PIN_ENTRY


def test_idle_prompt_still_warns_before_clearing() -> None:
    """GIVEN the count-down ran out on a choice step THEN the "more time?" prompt comes first (R-33: warn
    before clearing), itself with 時間を延長 and a count-down."""
    h = Harness().goto(Step.CHOOSE_TYPE)
    controller, _ = _controller(h)
    h.clock.advance(60)
    controller.send(Tick())
    assert controller.step_name() == "more_time"
    assert controller.countdown().extendable and controller.countdown().seconds_left is None
    h.clock.advance(15)
    controller.send(Tick())
    assert controller.countdown().seconds_left == 15
    controller.send(ev.MoreTime())
    assert h.step is Step.CHOOSE_TYPE
