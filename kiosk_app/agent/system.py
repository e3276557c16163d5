"""Readings of the machine itself for health messages: CPU temperature, load, memory and disk."""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SystemMetrics", "clock_synced", "read_system_metrics"]

_logger = logging.getLogger(__name__)

_THERMAL = Path("/sys/class/thermal")
_MEMINFO = Path("/proc/meminfo")
_TIMESYNC_FLAG = Path("/run/systemd/timesync/synchronized")


@dataclass(frozen=True)
class SystemMetrics:
    """One reading: °C (None without a sensor), 1-minute load, memory and disk used in percent."""

    cpu_temp: float | None
    load: float
    mem: float
    disk: float


def _cpu_temp(thermal: Path) -> float | None:
    zones = sorted(thermal.glob("thermal_zone*"))
    for zone in zones:  # prefer the CPU zone (the Pi's is "cpu-thermal")
        try:
            kind = (zone / "type").read_text(encoding="ascii").strip()
        except OSError:
            continue
        if "cpu" in kind or "soc" in kind:
            zones = [zone]
            break
    for zone in zones:
        try:
            return int((zone / "temp").read_text(encoding="ascii").strip()) / 1000
        except (OSError, ValueError):
            continue
    return None


def _mem_used_percent(meminfo: Path) -> float:
    values: dict[str, int] = {}
    try:
        for line in meminfo.read_text(encoding="ascii").splitlines():
            key, _, rest = line.partition(":")
            values[key] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    total, available = values.get("MemTotal", 0), values.get("MemAvailable", 0)
    return round(100 * (total - available) / total, 1) if total else 0.0


def _disk_used_percent(path: Path) -> float:
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    usage = shutil.disk_usage(probe)
    return round(100 * usage.used / usage.total, 1) if usage.total else 0.0


def read_system_metrics(
    data_dir: Path, *, thermal: Path = _THERMAL, meminfo: Path = _MEMINFO
) -> SystemMetrics:
    """Read the OS figures; the disk figure is for the partition holding `data_dir`."""
    return SystemMetrics(
        cpu_temp=_cpu_temp(thermal),
        load=round(os.getloadavg()[0], 2),
        mem=_mem_used_percent(meminfo),
        disk=_disk_used_percent(data_dir),
    )


def clock_synced(flag: Path = _TIMESYNC_FLAG) -> bool:
    """Whether systemd-timesyncd reports the clock synchronised (False where it does not run)."""
    return flag.exists()
