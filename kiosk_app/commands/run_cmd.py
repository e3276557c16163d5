"""`kiosk run`: run the kiosk in the foreground until SIGTERM or Ctrl-C.

The fleet link (presence, health, statistics, catalog, commands) always runs. With a display (or
`--ui on`) the touchscreen app runs on the real devices; `--autopilot SCENARIO` plays residents through
the real screens without a display and saves screenshots; `--ui off` is the link alone.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from madoguchi.errors import UserError

if TYPE_CHECKING:  # the kiosk assembly (Kivy, drivers, agent) loads when the kiosk runs, not for `--help`
    from kiosk_app.agent import FleetAgent
    from kiosk_app.agent.health import DeviceHealthProvider
    from kiosk_app.systemd_notify import Notifier
    from madoguchi.config.kiosk import KioskConfig

__all__ = ["DEFAULT_SIM_BROKER", "default_sim_data_dir", "register"]

_logger = logging.getLogger(__name__)

DEFAULT_SIM_BROKER = "mqtt://127.0.0.1:1883"
DEFAULT_SIM_DEVICE = "jp-999999-k01"
RESTART_EXIT_STATUS = 75  # `restart_app` command: systemd (Restart=on-failure) starts the app again
_IDENTITY_OPTIONS = {
    "--ca-file": "CA certificate (PEM) the broker's certificate chains to",
    "--cert-file": "the kiosk's device certificate (PEM, CN = device id)",
    "--key-file": "the private key (PEM) of that certificate",
}


def default_sim_data_dir() -> Path:
    """Where `kiosk run --simulate` keeps its data unless told: $XDG_DATA_HOME/madoguchi/simulated-kiosk."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "madoguchi" / "simulated-kiosk"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `run`."""
    run = subparsers.add_parser(
        "run",
        help="run the kiosk (touchscreen app and fleet link) until Ctrl-C or SIGTERM",
        description=(
            "Run the kiosk in the foreground: connect to the broker, announce the kiosk online "
            "(birth, will), send health every [health] interval_s and on change, and announce "
            "a clean shutdown on Ctrl-C or SIGTERM. The touchscreen app runs when a display is "
            "available (--ui on forces it, --ui off runs the fleet link alone; --autopilot plays "
            "residents without a display). Give --config FILE, or --simulate to run with every "
            "device emulated; --simulate reaches an mqtts:// fleet broker with an enrolled kiosk's "
            "--ca-file, --cert-file and --key-file (the device id is the certificate's CN)."
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
    run.add_argument(
        "--device-id",
        help=f"with --simulate: device id (default: the certificate's CN, else {DEFAULT_SIM_DEVICE})",
    )
    for option, what in _IDENTITY_OPTIONS.items():
        run.add_argument(
            option, type=Path, metavar="FILE", help=f"with --simulate and an mqtts:// --broker: {what}"
        )
    run.add_argument(
        "--ui",
        choices=("auto", "on", "off"),
        default="auto",
        help="the touchscreen app: auto = when a display is available (default), off = fleet link only",
    )
    run.add_argument("--fullscreen", action="store_true", help="full screen window (a kiosk's touchscreen)")
    run.add_argument(
        "--autopilot",
        metavar="SCENARIO[,SCENARIO...]",
        help="play residents headless: certificate, register (needs register:<order code>), queue, e.g. certificate",
    )
    run.add_argument(
        "--rounds", type=int, default=1, help="with --autopilot: play the scenarios this many times"
    )
    run.add_argument("--screenshots", type=Path, help="with --autopilot: save a PNG of every screen here")
    run.add_argument(
        "--persona", help="with --simulate: whose emulated card is in the reader (default valid-adult)"
    )
    run.set_defaults(func=_run)


def _identity(args: argparse.Namespace, broker: str) -> tuple[Path, Path, Path] | None:
    """The `--ca-file --cert-file --key-file` of `--simulate`: all three (mqtts://) or none (mqtt://)."""
    given = {option: getattr(args, option[2:].replace("-", "_")) for option in _IDENTITY_OPTIONS}
    missing = [option for option, value in given.items() if value is None]
    tls = broker.strip().lower().startswith("mqtts://")
    if not tls:
        if len(missing) < len(given):
            extra = [option for option in given if option not in missing]
            raise UserError(
                f"{', '.join(extra)} {'goes' if len(extra) == 1 else 'go'} with an mqtts:// --broker "
                f"(plaintext {broker} would not use them)",
                "pass --broker mqtts://HOST:8883, or leave the identity files out",
            )
        return None
    if missing:
        detail = "; ".join(f"{option} ({_IDENTITY_OPTIONS[option]})" for option in missing)
        raise UserError(
            f"--broker {broker} needs the kiosk's enrolled identity; missing: {detail}",
            "pass --ca-file ca.pem --cert-file cert.pem --key-file key.pem "
            "(e.g. from /data/identity on an enrolled kiosk)",
        )
    for option, value in given.items():
        if not value.is_file():
            raise UserError(f"{option} {value}: no such file", f"pass the {_IDENTITY_OPTIONS[option]}")
    return given["--ca-file"], given["--cert-file"], given["--key-file"]


def _config(args: argparse.Namespace) -> tuple[KioskConfig, DeviceHealthProvider]:
    from kiosk_app.agent import SimulatedDeviceHealth, UnmonitoredDeviceHealth
    from kiosk_app.enrolment.swap import recover_identity
    from madoguchi.config.kiosk import identity_common_name, load_kiosk_config, simulated_kiosk_config

    if args.simulate == (args.config is not None):
        raise UserError("give exactly one of --config FILE or --simulate", "e.g. kiosk run --simulate")
    if args.config is not None:
        if args.data_dir or args.broker or args.device_id or args.ca_file or args.cert_file or args.key_file:
            raise UserError(
                "--data-dir, --broker, --device-id, --ca-file, --cert-file and --key-file go with --simulate",
                "set them in the config file",
            )
        config = load_kiosk_config(args.config)
        if config.broker.key_file is not None and recover_identity(config.broker.key_file.parent):
            config = load_kiosk_config(args.config)  # a completed identity swap may also replace kiosk.toml
        return config, UnmonitoredDeviceHealth()
    broker = args.broker or DEFAULT_SIM_BROKER
    identity = _identity(args, broker)
    ca_file, cert_file, key_file = identity or (None, None, None)
    device_id = args.device_id or DEFAULT_SIM_DEVICE
    if cert_file is not None:
        cn = identity_common_name(cert_file, key_file, ca_file=ca_file)
        device_id = args.device_id or cn
        if device_id != cn:
            raise UserError(
                f"--device-id {device_id} does not match the certificate {cert_file}, which is for "
                f"{cn} (its CN); the broker would log this kiosk in as {cn} and refuse its topics",
                f"pass --device-id {cn}, or the identity files enrolled for {device_id}",
            )
    config = simulated_kiosk_config(
        args.data_dir or default_sim_data_dir(),
        broker,
        device_id,
        ca_file=ca_file,
        cert_file=cert_file,
        key_file=key_file,
    )
    return config, SimulatedDeviceHealth(config)


def _ready_file(config: KioskConfig) -> Path:
    """Under systemd (RuntimeDirectory=madoguchi) the update health gate's file; else in the data dir."""
    runtime = os.environ.get("RUNTIME_DIRECTORY")
    return Path(runtime.split(":")[0]) / "ready.json" if runtime else config.kiosk.data_dir / "ready.json"


def _mode(args: argparse.Namespace) -> str:
    """`autopilot`, `window` or `link`."""
    from kiosk_app.kiosk_main import display_available

    if args.autopilot:
        return "autopilot"
    if args.screenshots or args.rounds != 1:
        raise UserError(
            "--screenshots and --rounds go with --autopilot",
            "e.g. kiosk run --simulate --autopilot certificate",
        )
    if args.ui == "on" or (args.ui == "auto" and display_available()):
        return "window"
    return "link"


def _run(args: argparse.Namespace) -> int:
    from device_drivers.printer.escpos_cache import use_data_dir
    from kiosk_app.agent import AgentOptions, FleetAgent, clock_synced
    from kiosk_app.agent.fleet_services import attach_fleet_services, root_keys_dir
    from kiosk_app.systemd_notify import Notifier
    from madoguchi import __version__
    from madoguchi.signals import stop_on_signals

    config, devices = _config(args)
    use_data_dir(config.kiosk.data_dir)  # python-escpos caches its capabilities there, not in /tmp
    mode = _mode(args)
    # The 0–30 s start delay spreads a fleet's statistics after the centre comes back (contract §4.10);
    # a simulated kiosk on a laptop or in the demo is alone, so it sends at once.
    options = AgentOptions(drain_start_delay=lambda: 0.0) if args.simulate else None
    # A simulated kiosk runs on a developer's machine or the demo, whose clock its own OS keeps (systemd's
    # timesync flag exists only where timesyncd runs, as on the kiosk image): it reports the clock synchronised.
    synced = (lambda: True) if args.simulate else clock_synced
    agent = FleetAgent(config, devices, options=options, clock_is_synced=synced)
    attach_fleet_services(agent)
    notifier = Notifier.from_environment(__version__, ready_file=_ready_file(config))
    status = 0
    with stop_on_signals() as stop:
        agent.start()
        print(
            f"kiosk {config.device_id}: fleet link to {config.broker.url}, data in {config.kiosk.data_dir}, "
            f"fleet root key from {root_keys_dir(config.kiosk.data_dir)}; {mode}; Ctrl-C stops",
            file=sys.stderr,
            flush=True,
        )
        try:
            if mode == "link":
                notifier.ready(f"fleet link to {config.broker.url}")
                agent.run(stop, on_tick=notifier.watchdog)
            else:
                status = _run_app(args, mode, config, agent, stop, notifier)
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
    return status


def _ui_heartbeat(notifier: Notifier, config: KioskConfig) -> Callable[[], None]:
    """On the UI loop: READY at the first frame, then a watchdog ping at most once a second."""
    last = [0.0]
    ready = [False]

    def beat() -> None:
        if not ready[0]:
            ready[0] = True
            notifier.ready(f"kiosk app (window) with fleet link to {config.broker.url}")
        now = time.monotonic()
        if now - last[0] >= 1.0:
            last[0] = now
            notifier.watchdog()

    return beat


def _drain_outbox(agent: FleetAgent, stop: threading.Event, timeout_s: float = 15.0) -> int:
    """Send what the outbox holds before exiting (it is durable either way); how many rows still wait."""
    deadline = time.monotonic() + timeout_s
    agent.telemetry.send_now()
    while agent.telemetry.outbox.depth() and time.monotonic() < deadline and not stop.is_set():
        time.sleep(0.2)
        agent.telemetry.send_now()
    return agent.telemetry.outbox.depth()


def _run_app(
    args: argparse.Namespace,
    mode: str,
    config: KioskConfig,
    agent: FleetAgent,
    stop: threading.Event,
    notifier: Notifier,
) -> int:
    """The app in the main thread (Kivy needs it), the agent's loop beside it; either stopping ends both."""
    from kiosk_app.kiosk_main import KioskAssembly, kivy_environment

    kivy_environment(config)
    # With the window, the UI loop pings the watchdog (a hung UI is restarted); else the agent's loop does.
    link_tick = None if mode == "window" else notifier.watchdog
    link = threading.Thread(target=agent.run, args=(stop,), kwargs={"on_tick": link_tick}, daemon=True)
    link.start()  # first: the centre sees the kiosk online while the devices open
    app = KioskAssembly(config, agent, persona=args.persona)
    app.start()

    def stop_app() -> None:
        stop.wait()
        app.stop()

    threading.Thread(target=stop_app, daemon=True).start()
    if mode != "window":
        notifier.ready(f"kiosk app ({mode}) with fleet link to {config.broker.url}")
    try:
        if mode == "window":
            app.run_window(fullscreen=args.fullscreen, on_tick=_ui_heartbeat(notifier, config))
            return 0
        from kiosk_app.ui.autopilot import AutopilotError

        try:
            done = app.run_autopilot(args.autopilot.split(","), args.screenshots, rounds=args.rounds)
        except AutopilotError as exc:
            print(f"kiosk {config.device_id}: autopilot stopped: {exc}", file=sys.stderr)
            return 1
        print(f"kiosk {config.device_id}: autopilot completed {done} session(s)", file=sys.stderr)
        left = _drain_outbox(agent, stop)
        if left:
            print(
                f"kiosk {config.device_id}: {left} statistic(s) wait in the outbox for the next run",
                file=sys.stderr,
            )
        if args.screenshots:
            print(f"kiosk {config.device_id}: screenshots in {args.screenshots}", file=sys.stderr)
        return 0
    finally:
        stop.set()
        app.stop()
        link.join(10)
