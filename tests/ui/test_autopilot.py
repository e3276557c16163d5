"""The autopilot plays residents through the real screens against the in-process fake devices."""

from __future__ import annotations

from typing import Any

import pytest

from kiosk_app.flows import commands as cmd
from kiosk_app.flows.clock import monotonic_clock
from kiosk_app.ui.autopilot import SCENARIOS, Autopilot, AutopilotError, WaitFor
from kiosk_app.ui.controller import KioskController
from kiosk_app.ui.fake_runner import FakeRunner
from kiosk_app.ui.root import build_root
from madoguchi.contracts.catalog import load_sample_catalog
from tests.ui.conftest import SIZE, Ui


def pilot(ui: Ui, artifacts: Any, name: str) -> tuple[Autopilot, FakeRunner]:
    catalog = load_sample_catalog()
    runner = FakeRunner(catalog)
    controller = KioskController.for_catalog(catalog, runner.execute, monotonic_clock)
    runner.attach(controller.post)
    root = ui.mount(build_root(controller))
    return Autopilot(root, controller, screenshots=artifacts / f"autopilot-{name}-{SIZE}"), runner


@pytest.mark.parametrize("scenario", ["certificate", "register"])
def test_autopilot_plays_a_resident_to_the_end(ui: Ui, artifacts: Any, scenario: str) -> None:
    """GIVEN healthy fake devices WHEN the autopilot plays SCENARIO THEN it ends at home with one completed
    statistic and a screenshot of every screen it passed."""
    autopilot, runner = pilot(ui, artifacts, scenario)
    shots = autopilot.play(SCENARIOS[scenario])
    assert autopilot.controller.step_name() == "home"
    stats = [c.stats for c in runner.executed if isinstance(c, cmd.EmitStatistic)]  # type: ignore[attr-defined]
    assert [s.outcome.value for s in stats] == ["completed"]
    assert len(shots) >= (12 if scenario == "certificate" else 7) and all(
        p.stat().st_size > 10_000 for p in shots
    )
    if scenario == "certificate":
        assert any(isinstance(c, cmd.PrintDocument) for c in runner.executed) and stats[0].rating == 5


def test_autopilot_reports_a_step_that_never_comes(ui: Ui, artifacts: Any) -> None:
    """GIVEN the home screen WHEN the autopilot waits for a step nobody leads to THEN it fails saying where it is."""
    autopilot, _runner = pilot(ui, artifacts, "stuck")
    with pytest.raises(AutopilotError, match="still at home"):
        autopilot.play([WaitFor("rating", timeout_s=0.3)])
