"""The kiosk application put together: flows, controller, device runner and (optionally) the touchscreen.

`KioskAssembly.start()` builds the runner on the agent's link; then either `run_window()` shows the Kivy
app until it closes, or `run_autopilot()` plays residents through the real screens headless (SDL
offscreen) and saves screenshots. `run_cmd` decides which.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk_app.agent.catalog_install import CatalogInstall
from kiosk_app.agent.link import FleetAgent
from kiosk_app.flows.clock import monotonic_clock
from kiosk_app.runner.build import build_parts
from kiosk_app.runner.card_slot import EmulatedCardSlot
from kiosk_app.runner.device_runner import DeviceRunner
from kiosk_app.ui.clock_status import clock_probe
from kiosk_app.ui.controller import KioskController
from kiosk_app.ui.simulator_panel import PANEL_HEIGHT, build_panel
from madoguchi.config.kiosk import KioskConfig
from madoguchi.contracts.catalog import Catalog, load_catalog, load_sample_catalog

__all__ = ["KioskAssembly", "display_available", "kiosk_catalog", "kivy_environment"]

_logger = logging.getLogger(__name__)


def display_available() -> bool:
    """True when a window can be shown (X11 or Wayland session, or Kivy told to use the Pi's KMS)."""
    return bool(
        os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or os.environ.get("SDL_VIDEODRIVER") in ("kmsdrm", "wayland", "x11")
    )


def kivy_environment(config: KioskConfig) -> None:
    """Before Kivy is imported: no Kivy command-line parsing, Python logging only, its files in the data dir."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_HOME", str(config.kiosk.data_dir / "kivy"))


def kiosk_catalog(config: KioskConfig) -> Catalog:
    """The catalog installed from the centre, else the shipped sample catalog (until the first install)."""
    installed = CatalogInstall(config.kiosk.data_dir / "catalog").current()
    if installed is not None and installed.path.is_file():
        return load_catalog(installed.path)
    return load_sample_catalog()


@dataclass
class KioskAssembly:
    """One kiosk's app on top of a started fleet agent."""

    config: KioskConfig
    agent: FleetAgent
    persona: str | None = None
    controller: KioskController | None = None
    runner: DeviceRunner | None = None
    stopped: threading.Event = field(default_factory=threading.Event)

    def start(self) -> KioskController:
        """Open the devices and wire flows → runner → controller."""
        catalog = kiosk_catalog(self.config)
        parts = build_parts(self.config, self.agent, catalog, persona=self.persona)
        runner = DeviceRunner(parts)
        controller = KioskController.for_catalog(
            catalog,
            runner.execute,
            monotonic_clock,
            idle_timeout_s=float(self.config.ui.idle_timeout_s),
            language=self.config.ui.language,
            clock_status=clock_probe(self.agent.clock_is_synced),
        )
        runner.attach(controller.post)
        runner.start()
        self.controller, self.runner = controller, runner
        return controller

    def card_hands(self, action: str) -> None:
        """What the resident's hands do with the simulated card (the autopilot's `Physical` actions)."""
        assert self.runner is not None
        slot = self.runner.parts.card
        if not isinstance(slot, EmulatedCardSlot):
            raise RuntimeError("only a simulated card reader can be driven by the autopilot")
        if action == "insert_card":
            slot.insert()
        else:
            slot.remove()

    def run_window(self, *, fullscreen: bool, on_tick: Callable[[], None] | None = None) -> None:
        """Show the touchscreen until the window closes or `stop()`; `on_tick` runs on the UI loop."""
        kivy_environment(self.config)
        from kiosk_app.ui.app import configure_window, make_app

        assert self.controller is not None
        panel = self._panel_builder()
        configure_window(
            self.config.ui.orientation, fullscreen=fullscreen, extra_height=PANEL_HEIGHT if panel else 0
        )
        app = make_app(self.controller, panel, on_tick)
        watcher = threading.Thread(target=self._stop_app_on_signal, args=(app,), daemon=True)
        watcher.start()
        app.run()

    def _panel_builder(self) -> Callable[[], Any] | None:
        """The simulator's hands under the screen when the card reader is the emulator."""
        assert self.runner is not None
        slot = self.runner.parts.card
        if not isinstance(slot, EmulatedCardSlot):
            return None
        scanner = self.runner.parts.scanner
        scan = getattr(scanner, "scan", None)

        def build() -> Any:
            return build_panel(slot, scan)

        return build

    def _stop_app_on_signal(self, app: object) -> None:
        self.stopped.wait()
        from kivy.clock import Clock

        Clock.schedule_once(lambda _dt: app.stop(), 0)  # type: ignore[attr-defined]

    def run_autopilot(self, scenarios: list[str], screenshots: Path | None, *, rounds: int = 1) -> int:
        """Play `scenarios` `rounds` times on the real screens (offscreen); how many sessions completed."""
        os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
        kivy_environment(self.config)
        from kiosk_app.ui.autopilot import Autopilot, AutopilotStopped, scenario_actions
        from kiosk_app.ui.headless import open_window

        assert self.controller is not None
        root = open_window(self.controller, self.config.ui.orientation)
        completed = 0
        for round_no in range(rounds):
            for name in scenarios:
                if self.stopped.is_set():
                    return completed
                label = name.replace(":", "-")
                folder = screenshots / f"{round_no + 1:03d}-{label}" if screenshots else None
                pilot = Autopilot(
                    root,
                    self.controller,
                    screenshots=folder,
                    physical=self.card_hands,
                    stopped=self.stopped.is_set,
                )
                started = time.monotonic()
                try:
                    pilot.play(scenario_actions(name, self.agent.device_id))
                except AutopilotStopped:
                    _logger.info("autopilot stopped during %s", name)
                    return completed
                completed += 1
                _logger.info("autopilot: %s done in %.1f s", name, time.monotonic() - started)
        return completed

    def stop(self) -> None:
        """Close the window or end the autopilot, and stop the devices."""
        self.stopped.set()
        if self.runner is not None:
            self.runner.stop()
