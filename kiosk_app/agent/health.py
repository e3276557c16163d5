"""Where health messages come from: device component status from a provider, plus the machine.

Device drivers will provide real component status later; until then `SimulatedDeviceHealth`
reports the emulated devices as working.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

from kiosk_app.agent.system import SystemMetrics
from madoguchi.config.kiosk import KioskConfig
from madoguchi.contracts.messages import ComponentHealth, ComponentStatus, HealthMessage, PrinterHealth
from madoguchi.device_urls import DeviceKind

__all__ = [
    "COMPONENTS",
    "DeviceHealth",
    "DeviceHealthProvider",
    "SimulatedDeviceHealth",
    "UnmonitoredDeviceHealth",
    "build_health",
]

_logger = logging.getLogger(__name__)

Component = Literal["printer", "a4_printer", "card_reader", "payment", "scanner", "touch", "net"]
COMPONENTS: tuple[Component, ...] = (
    "printer",
    "a4_printer",
    "card_reader",
    "payment",
    "scanner",
    "touch",
    "net",
)


@dataclass(frozen=True)
class DeviceHealth:
    """Status of each kiosk component at one moment."""

    printer: PrinterHealth
    a4_printer: PrinterHealth | None
    card_reader: ComponentHealth
    payment: ComponentHealth
    scanner: ComponentHealth
    touch: ComponentHealth
    net: ComponentHealth


class DeviceHealthProvider(Protocol):
    """Anything that can say how the kiosk's devices are; called from the agent's thread."""

    def device_health(self) -> DeviceHealth: ...


class SimulatedDeviceHealth:
    """Component status for `kiosk run --simulate`: every emulated device reports ok.

    `set()` changes one component (e.g. to show a printer out of paper in a demo); the agent sends
    a health message when the status changes.
    """

    def __init__(self, config: KioskConfig) -> None:
        def detail(kind: DeviceKind) -> str:
            url = config.devices.url(kind)
            return f"simulated ({url.scheme}://{url.target})"

        self._lock = threading.Lock()
        self._health = DeviceHealth(
            printer=PrinterHealth(
                status=ComponentStatus.OK,
                paper="ok",
                cover="closed",
                detail=detail(DeviceKind.RECEIPT_PRINTER),
            ),
            a4_printer=PrinterHealth(
                status=ComponentStatus.OK, paper="ok", cover="closed", detail=detail(DeviceKind.A4_PRINTER)
            ),
            card_reader=ComponentHealth(status=ComponentStatus.OK, detail=detail(DeviceKind.CARD_READER)),
            payment=ComponentHealth(status=ComponentStatus.OK, detail=detail(DeviceKind.PAYMENT)),
            scanner=ComponentHealth(status=ComponentStatus.OK, detail=detail(DeviceKind.SCANNER)),
            touch=ComponentHealth(status=ComponentStatus.OK, detail="simulated (headless)"),
            net=ComponentHealth(status=ComponentStatus.OK, detail="simulated"),
        )

    def device_health(self) -> DeviceHealth:
        """The current simulated status."""
        with self._lock:
            return self._health

    def set(self, component: Component, health: ComponentHealth) -> None:
        """Change one component's simulated status."""
        if component in ("printer", "a4_printer") and not isinstance(health, PrinterHealth):
            health = PrinterHealth(status=health.status, code=health.code, detail=health.detail)
        with self._lock:
            changes: dict[str, Any] = {component: health}
            self._health = replace(self._health, **changes)


class UnmonitoredDeviceHealth:
    """Component status for real devices until their drivers report it: every component "unknown"."""

    def __init__(self) -> None:
        unknown = ComponentHealth(status=ComponentStatus.UNKNOWN, detail="not monitored by this build yet")
        printer = PrinterHealth(status=ComponentStatus.UNKNOWN, detail="not monitored by this build yet")
        self._health = DeviceHealth(
            printer=printer,
            a4_printer=printer,
            card_reader=unknown,
            payment=unknown,
            scanner=unknown,
            touch=unknown,
            net=ComponentHealth(status=ComponentStatus.OK, detail="connected to the broker"),
        )

    def device_health(self) -> DeviceHealth:
        """Always the same: nothing is monitored yet."""
        return self._health


def build_health(
    *,
    ts: int,
    epoch: int,
    app_ver: str,
    catalog_ver: int | None,
    uptime: float,
    system: SystemMetrics,
    devices: DeviceHealth,
    outbox_depth: int,
    clock_synced: bool,
) -> HealthMessage:
    """Assemble an `up/health` message."""
    return HealthMessage(
        ts=ts,
        epoch=epoch,
        app_ver=app_ver,
        catalog_ver=catalog_ver,
        uptime=round(uptime, 1),
        cpu_temp=system.cpu_temp,
        load=system.load,
        mem=system.mem,
        disk=system.disk,
        printer=devices.printer,
        a4_printer=devices.a4_printer,
        card_reader=devices.card_reader,
        payment=devices.payment,
        scanner=devices.scanner,
        touch=devices.touch,
        net=devices.net,
        outbox_depth=outbox_depth,
        clock_synced=clock_synced,
    )
