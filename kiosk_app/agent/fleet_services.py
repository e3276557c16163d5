"""Attach catalog updates, remote commands and the kill switch to a `FleetAgent`.

`attach_fleet_services(agent)` builds them from the agent's data folder
(`<data_dir>/trust/root/*.pub` = root keys from the image, `trust/keys.json`, `control.json`,
`agent/commands.json`, `catalog/`), routes their downlink topics, and makes the agent report the
installed catalog version. Without root keys every signed document is refused (and alerted):
a kiosk never runs unsigned catalogs or commands.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from kiosk_app.agent.catalog_install import CatalogInstall
from kiosk_app.agent.catalog_update import CatalogUpdater
from kiosk_app.agent.kill_switch import KillSwitch
from kiosk_app.agent.link import FleetAgent
from kiosk_app.agent.remote_commands import CommandRunner, Operation
from kiosk_app.agent.system import clock_synced
from kiosk_app.agent.trust import TrustStore, load_root_keys
from madoguchi.contracts.messages import Severity
from madoguchi.contracts.signed import CommandDocument, CommandOp

__all__ = ["FleetServices", "attach_fleet_services", "root_keys_dir"]

_logger = logging.getLogger(__name__)


def root_keys_dir(data_dir: Path) -> Path:
    """Where the image (or provisioning) installs the fleet root public key(s)."""
    return data_dir / "trust" / "root"


@dataclass(frozen=True)
class FleetServices:
    """What `attach_fleet_services` built."""

    trust: TrustStore
    catalogs: CatalogInstall
    updater: CatalogUpdater
    commands: CommandRunner
    kill_switch: KillSwitch


def _diagnostics(agent: FleetAgent, folder: Path) -> Operation:
    def collect(command: CommandDocument) -> str:
        fill = agent.telemetry.outbox.fill()
        report = {
            "device_id": agent.device_id,
            "cmd_id": command.cmd_id,
            "health": json.loads(agent.health().to_bytes()),
            "health_ring": [json.loads(h) for h in agent.telemetry.outbox.health_ring(60)],
            "outbox": fill.__dict__,
            "alerts": {k: json.loads(v.to_bytes()) for k, v in agent.telemetry.active_alerts().items()},
        }
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{command.cmd_id}.json"
        path.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
        agent.emit_event("diagnostics_collected", Severity.INFO, f"saved on the kiosk as {path.name}")
        return f"diagnostics saved on the kiosk: {path}"

    return collect


def attach_fleet_services(
    agent: FleetAgent,
    *,
    extra_operations: Mapping[CommandOp, Operation] | None = None,
    idle: Callable[[], bool] = lambda: True,
    clock_is_synced: Callable[[], bool] = clock_synced,
) -> FleetServices:
    """Build and route catalog updates, commands and the kill switch for `agent`."""
    data = agent.config.kiosk.data_dir
    clock = agent.clock
    roots = load_root_keys(root_keys_dir(data))
    if not roots:
        _logger.warning("%s: no fleet root key in %s; signed catalogs and commands will be refused",
                        agent.device_id, root_keys_dir(data))  # fmt: skip
    trust = TrustStore(roots, data / "trust" / "keys.json", clock=clock, clock_synced=clock_is_synced)
    catalogs = CatalogInstall(data / "catalog")
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
        CommandOp.COLLECT_LOGS: _diagnostics(agent, data / "diagnostics"),
        **(extra_operations or {}),
    }
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
    agent.add_downlink(updater.handle)
    agent.add_downlink(commands.handle)
    agent.add_downlink(kill_switch.handle)
    agent.add_tick(updater.tick)
    return FleetServices(trust, catalogs, updater, commands, kill_switch)
