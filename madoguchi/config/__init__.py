"""Configuration of kiosks and the central system: TOML files validated into frozen models.

A file that cannot be used raises `ConfigFileError` (a `madoguchi.errors.ConfigError`) listing
every problem, one line each: file, key, value given, what is wrong and the fix.
"""

from __future__ import annotations

from madoguchi.config.broker import BrokerConfig
from madoguchi.config.central import (
    CentralConfig,
    CentralSection,
    FleetConfig,
    describe_central,
    load_central_config,
    local_central_config,
)
from madoguchi.config.kiosk import (
    SIMULATED_DEVICES,
    DevicesConfig,
    HealthConfig,
    KioskConfig,
    KioskSection,
    Orientation,
    UiConfig,
    describe_kiosk,
    load_kiosk_config,
    simulated_kiosk_config,
)
from madoguchi.config.problems import ConfigFileError, ConfigProblem
from madoguchi.config.writer import dump_toml

__all__ = [
    "SIMULATED_DEVICES",
    "BrokerConfig",
    "CentralConfig",
    "CentralSection",
    "ConfigFileError",
    "ConfigProblem",
    "DevicesConfig",
    "FleetConfig",
    "HealthConfig",
    "KioskConfig",
    "KioskSection",
    "Orientation",
    "UiConfig",
    "describe_central",
    "describe_kiosk",
    "dump_toml",
    "load_central_config",
    "load_kiosk_config",
    "local_central_config",
    "simulated_kiosk_config",
]
