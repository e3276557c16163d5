"""`kiosk run`: run the kiosk in the foreground until SIGTERM or Ctrl-C.

For now this is the headless fleet link (presence and health to the centre); the touchscreen
application joins it in a later issue.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from kiosk_app.agent import FleetAgent, SimulatedDeviceHealth, UnmonitoredDeviceHealth
from kiosk_app.agent.fleet_services import attach_fleet_services, root_keys_dir
from kiosk_app.agent.health import DeviceHealthProvider
from kiosk_app.systemd_notify import Notifier
from madoguchi import __version__
from madoguchi.config.kiosk import KioskConfig, load_kiosk_config, simulated_kiosk_config
from madoguchi.errors import UserError
from madoguchi.signals import stop_on_signals

__all__ = ["DEFAULT_SIM_BROKER", "default_sim_data_dir", "register"]

_logger = logging.getLogger(__name__)

DEFAULT_SIM_BROKER = "mqtt://127.0.0.1:1883"
DEFAULT_SIM_DEVICE = "jp-999999-k01"
RESTART_EXIT_STATUS = 75  # `restart_app` command: systemd (Restart=on-failure) starts the app again


def default_sim_data_dir() -> Path:
    """Where `kiosk run --simulate` keeps its data unless told: $XDG_DATA_HOME/madoguchi/simulated-kiosk."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "madoguchi" / "simulated-kiosk"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `run`."""
    run = subparsers.add_parser(
        "run",
        help="run the kiosk (headless fleet link for now) until Ctrl-C or SIGTERM",
        description=(
            "Run the kiosk in the foreground: connect to the broker, announce the kiosk online "
            "(birth, will), send health every [health] interval_s and on change, and announce "
            "a clean shutdown on Ctrl-C or SIGTERM. Headless for now: the touchscreen "
            "application comes in a later issue. Give --config FILE, or --simulate to run with "
            "every device emulated."
        ),
    )
    run.add_argument("--config", type=Path, help="kiosk TOML file")
    run.add_argument(
        "--simulate", action="store_true", help="use the built-in simulated kiosk (all devices emulated)"
    )
    run.add_argument(
        "--data-dir", type=Path, help=f"with --simulate: data folder (default {default_sim_data_dir()})"
    )
    run.add_argument("--broker", help=f"with --simulate: broker URL (default {DEFAULT_SIM_BROKER})")
    run.add_argument("--device-id", help=f"with --simulate: device id (default {DEFAULT_SIM_DEVICE})")
    run.set_defaults(func=_run)


def _config(args: argparse.Namespace) -> tuple[KioskConfig, DeviceHealthProvider]:
    if args.simulate == (args.config is not None):
        raise UserError("give exactly one of --config FILE or --simulate", "e.g. kiosk run --simulate")
    if args.config is not None:
        if args.data_dir or args.broker or args.device_id:
            raise UserError(
                "--data-dir, --broker and --device-id go with --simulate", "set them in the config file"
            )
        return load_kiosk_config(args.config), UnmonitoredDeviceHealth()
    config = simulated_kiosk_config(
        args.data_dir or default_sim_data_dir(),
        args.broker or DEFAULT_SIM_BROKER,
        args.device_id or DEFAULT_SIM_DEVICE,
    )
    return config, SimulatedDeviceHealth(config)


def _ready_file(config: KioskConfig) -> Path:
    """Under systemd (RuntimeDirectory=madoguchi) the update health gate's file; else in the data dir."""
    runtime = os.environ.get("RUNTIME_DIRECTORY")
    return Path(runtime.split(":")[0]) / "ready.json" if runtime else config.kiosk.data_dir / "ready.json"


def _run(args: argparse.Namespace) -> int:
    config, devices = _config(args)
    agent = FleetAgent(config, devices)
    attach_fleet_services(agent)
    notifier = Notifier.from_environment(__version__, ready_file=_ready_file(config))
    with stop_on_signals() as stop:
        agent.start()
        # Headless for now: the main loop is the agent's tick loop, so that is what the watchdog watches.
        notifier.ready(f"fleet link to {config.broker.url}")
        print(
            f"kiosk {config.device_id}: fleet link to {config.broker.url}, data in {config.kiosk.data_dir}, "
            f"fleet root key from {root_keys_dir(config.kiosk.data_dir)}; Ctrl-C stops",
            file=sys.stderr,
            flush=True,
        )
        try:
            agent.run(stop, on_tick=notifier.watchdog)
        finally:
            notifier.stopping()
            was_connected = agent.connected.is_set()
            acked = agent.stop()
    if acked:
        outcome = "shutdown announced"
    elif was_connected:
        outcome = "shutdown not acknowledged; the broker's will reports the kiosk offline"
    else:
        outcome = "was not connected"
    print(f"kiosk {config.device_id}: stopped ({outcome})", file=sys.stderr)
    if agent.restart_requested.is_set():
        print(f"kiosk {config.device_id}: restart requested by the centre", file=sys.stderr)
        return RESTART_EXIT_STATUS
    return 0
