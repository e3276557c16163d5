"""The kiosk agent: the fleet link to the centre (presence, health, statistics outbox, alerts, signed
catalog updates, remote commands, kill switch)."""

from __future__ import annotations

from kiosk_app.agent.epoch import EpochCounter, EpochError
from kiosk_app.agent.health import (
    COMPONENTS,
    DeviceHealth,
    DeviceHealthProvider,
    SimulatedDeviceHealth,
    UnmonitoredDeviceHealth,
    build_health,
)
from kiosk_app.agent.link import FleetAgent
from kiosk_app.agent.options import AgentOptions
from kiosk_app.agent.outbox import Outbox, OutboxFill
from kiosk_app.agent.sender import StatsSender
from kiosk_app.agent.system import SystemMetrics, clock_synced, read_system_metrics
from kiosk_app.agent.telemetry import Telemetry

__all__ = [
    "COMPONENTS",
    "AgentOptions",
    "DeviceHealth",
    "DeviceHealthProvider",
    "EpochCounter",
    "EpochError",
    "FleetAgent",
    "Outbox",
    "OutboxFill",
    "SimulatedDeviceHealth",
    "StatsSender",
    "SystemMetrics",
    "Telemetry",
    "UnmonitoredDeviceHealth",
    "build_health",
    "clock_synced",
    "read_system_metrics",
]
