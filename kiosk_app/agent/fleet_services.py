"""Attach catalog updates, remote commands and the kill switch to a `FleetAgent`.

`attach_fleet_services(agent)` builds them from the agent's data folder
(`<data_dir>/trust/root/*.pub` = root keys from the image, `trust/keys.json`, `control.json`,
`agent/commands.json`, `catalog/`, and app releases under `[updates] releases_dir`), routes their downlink topics, and makes the agent report the
installed catalog version. Without root keys every signed document is refused (and alerted):
a kiosk never runs unsigned catalogs or commands.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kiosk_app.agent.catalog_install import CatalogInstall
from kiosk_app.agent.catalog_update import CatalogUpdater
from kiosk_app.agent.diagnostics import LogSource, collect_logs_operation
from kiosk_app.agent.kill_switch import KillSwitch
from kiosk_app.agent.link import FleetAgent
from kiosk_app.agent.release_fetch import tls_context
from kiosk_app.agent.release_update import ReleaseUpdater
from kiosk_app.agent.remote_commands import CommandRunner, Operation
from kiosk_app.agent.system import clock_synced
from kiosk_app.agent.trust import TrustStore, load_root_keys, root_keys_dir
from madoguchi.contracts.signed import CommandDocument, CommandOp

__all__ = ["FleetServices", "attach_fleet_services", "root_keys_dir"]

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FleetServices:
    """What `attach_fleet_services` built."""

    trust: TrustStore
    catalogs: CatalogInstall
    updater: CatalogUpdater
    commands: CommandRunner
    kill_switch: KillSwitch
    releases: ReleaseUpdater


def _flush(agent: FleetAgent) -> Operation:
    def flush(_command: CommandDocument) -> str:
        agent.telemetry.send_now()
        agent.request_health()
        fill = agent.telemetry.outbox.fill()
        return f"outbox draining now: {fill.stats_rows} statistics and {fill.event_rows} events waiting"

    return flush


def _reboot(agent: FleetAgent, reboot: Callable[[], None]) -> Operation:
    def run(_command: CommandDocument) -> str:
        def later() -> None:
            time.sleep(1.0)  # let DONE reach the broker first
            agent.restart_requested.set()
            agent.stop()  # explicit offline ("shutdown") before the reboot
            reboot()

        threading.Thread(target=later, name="reboot", daemon=True).start()
        return "rebooting in 1 s"

    return run


def systemd_reboot() -> Callable[[], None] | None:
    """`systemctl --no-block reboot` when running under systemd (allowed by the image's polkit rule)."""
    systemctl = shutil.which("systemctl")
    if systemctl is None or not os.environ.get("INVOCATION_ID"):
        return None

    def reboot() -> None:
        subprocess.run([systemctl, "--no-block", "reboot"], check=False, timeout=30)

    return reboot


def attach_fleet_services(
    agent: FleetAgent,
    *,
    extra_operations: Mapping[CommandOp, Operation] | None = None,
    idle: Callable[[], bool] = lambda: True,
    clock_is_synced: Callable[[], bool] = clock_synced,
    reboot: Callable[[], None] | None = None,
    log_source: LogSource | None = None,
) -> FleetServices:
    """Build and route catalog updates, commands and the kill switch for `agent`.

    `reboot` restarts the machine (default: systemd's, when running under systemd; without one the
    `reboot` command is refused as not available); `log_source` gives the log lines `collect_logs`
    uploads (default: the kiosk units' journal, else `<data_dir>/logs/`).
    """
    data = agent.config.kiosk.data_dir
    clock = agent.clock
    roots = load_root_keys(root_keys_dir(data))
    if not roots:
        _logger.warning("%s: no fleet root key in %s; signed catalogs and commands will be refused",
                        agent.device_id, root_keys_dir(data))  # fmt: skip
    trust = TrustStore(roots, data / "trust" / "keys.json", clock=clock, clock_synced=clock_is_synced)
    catalogs = CatalogInstall(data / "catalog")
    updates = agent.config.updates
    releases = ReleaseUpdater(
        agent.device_id,
        updates.releases_dir or data / "releases",
        updates.release_keys,
        lambda: tls_context(agent.config.broker),
        agent.telemetry,
        publish=agent.publish,
        running_version=agent.app_ver,
        idle=idle,
        apply_command=updates.apply_command,
        retry_s=updates.retry_s,
        clock=clock,
    )
    updater = CatalogUpdater(
        agent.device_id,
        catalogs,
        trust,
        agent.telemetry,
        publish=agent.publish,
        subscribe=agent.subscribe,
        unsubscribe=agent.unsubscribe,
        clock=clock,
        clock_synced=clock_is_synced,
        idle=idle,
        on_applied=lambda _installed: agent.rebirth(),
        on_release=releases.on_release,
        tls=lambda: tls_context(agent.config.broker),
        retry_s=(min(15.0, updates.retry_s), max(900.0, updates.retry_s)),  # first pause, doubling up to
    )

    def maintenance(on: bool) -> Operation:
        def run(_command: CommandDocument) -> str:
            agent.set_maintenance(on)
            return "maintenance mode on" if on else "maintenance mode off"

        return run

    def restart(_command: CommandDocument) -> str:
        agent.restart_requested.set()
        return "app restart requested"

    def rebirth(_command: CommandDocument) -> str:
        agent.rebirth()
        return "birth and reported versions sent again"

    operations: dict[CommandOp, Operation] = {
        CommandOp.REBIRTH: rebirth,
        CommandOp.RESTART_APP: restart,
        CommandOp.MAINTENANCE_ON: maintenance(True),
        CommandOp.MAINTENANCE_OFF: maintenance(False),
        CommandOp.COLLECT_LOGS: collect_logs_operation(agent, data / "diagnostics", log_source),
        CommandOp.FLUSH: _flush(agent),
        **agent.staff_calls.operations(),
        **(extra_operations or {}),
    }
    reboot = reboot or systemd_reboot()
    if reboot is not None:
        operations[CommandOp.REBOOT] = _reboot(agent, reboot)
    commands = CommandRunner(
        agent.device_id,
        trust,
        operations,
        publish=agent.publish,
        state_path=data / "agent" / "commands.json",
        clock=clock,
    )
    kill_switch = KillSwitch(agent.device_id, trust, agent.telemetry, data / "trust" / "control.json")
    agent.set_catalog_version_source(catalogs.version)
    agent.set_control_version_source(lambda: kill_switch.version or None)
    kill_switch.add_listener(lambda _switch: agent.rebirth())  # the centre confirms by `up/reported`
    agent.add_downlink(updater.handle)
    agent.add_downlink(commands.handle)
    agent.add_downlink(kill_switch.handle)
    agent.add_tick(updater.tick)
    agent.add_tick(releases.tick)
    return FleetServices(trust, catalogs, updater, commands, kill_switch, releases)
