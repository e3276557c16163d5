"""The fleet as the dashboard shows it: branches with presence counts, devices with component health.

Branches are branch offices within a municipality: the kiosk's configured `branch`, sent in its birth
and kept in the store, under the municipality (the 6-digit code inside each device id, contract §1);
a kiosk that has not reported a branch yet is listed under its municipality alone. Pure functions of store records, so they are tested without a
browser and timed by `benchmarks/dashboard.py`.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from central_broker.store import DeviceRecord, DeviceStatus
from central_broker.store.clock_alert import CLOCK_ALERT_CODE
from central_broker.store.telemetry_models import AlertRecord
from central_broker.web.i18n import gettext_
from madoguchi.contracts.base import municipality_of
from madoguchi.contracts.messages import ComponentHealth, ComponentStatus, HealthMessage, PrinterHealth

__all__ = [
    "ALERT_TEXTS",
    "PRINTER_NOTES",
    "BranchSummary",
    "ComponentView",
    "DeviceRow",
    "FleetView",
    "alert_text",
    "branch_code",
    "build_fleet_view",
    "components_of",
]

UNBRANCHED = "other"
_QUIET = {ComponentStatus.OK, ComponentStatus.ABSENT}
_COMPONENTS = (
    ("printer", "Receipt printer"),
    ("a4_printer", "A4 printer"),
    ("card_reader", "Card reader"),
    ("payment", "Payment terminal"),
    ("scanner", "Slip scanner"),
    ("touch", "Touchscreen"),
    ("net", "Network"),
)
# Printer states the page words itself (msgids of the web catalog); codes and details are shown as sent.
_PAPER_NOTES = {"out": "paper out", "near-end": "paper near-end"}
_COVER_OPEN = "cover open"
PRINTER_NOTES = (*_PAPER_NOTES.values(), _COVER_OPEN)
# What an alert code means, for alerts whose code alone says too little (msgids of the web catalog).
ALERT_TEXTS = {
    CLOCK_ALERT_CODE: "Clock not synchronised: the kiosk runs on its saved clock until NTP answers",
}


def alert_text(code: str) -> str:
    """The meaning of alert `code` in the request's language ("" for a code the page does not explain)."""
    text = ALERT_TEXTS.get(code)
    return gettext_(text) if text else ""


@dataclass(frozen=True)
class ComponentView:
    """One component's health for a person: `paper out, cover open` beside the status."""

    key: str
    label: str
    status: str
    notes: tuple[str, ...]  # msgids, translated when shown (the view is shared by every language)
    details: tuple[str, ...]  # the kiosk's code and detail, shown as sent
    problem: bool  # someone should look at it

    @property
    def text(self) -> str:
        """The notes in the request's language, then the kiosk's code and detail."""
        return ", ".join([*(gettext_(note) for note in self.notes), *self.details])


def _component(key: str, label: str, health: ComponentHealth) -> ComponentView:
    notes: list[str] = []
    details: list[str] = []
    status = health.status
    if isinstance(health, PrinterHealth):
        if health.paper in _PAPER_NOTES:
            notes.append(_PAPER_NOTES[health.paper])
            if status is ComponentStatus.OK:
                status = ComponentStatus.WARNING if health.paper == "near-end" else ComponentStatus.ERROR
        if health.cover == "open":
            notes.append(_COVER_OPEN)
            if status is ComponentStatus.OK:
                status = ComponentStatus.ERROR
    if health.code:
        details.append(health.code)
    if health.detail and status not in _QUIET:
        details.append(health.detail)
    return ComponentView(key, label, status.value, tuple(notes), tuple(details), status not in _QUIET)


def components_of(health: HealthMessage | None) -> list[ComponentView]:
    """Every reported component of a health message (none before the first health)."""
    if health is None:
        return []
    views = []
    for key, label in _COMPONENTS:
        value = getattr(health, key)
        if isinstance(value, ComponentHealth):
            views.append(_component(key, label, value))
    return views


@dataclass(frozen=True)
class DeviceRow:
    """One kiosk in a fleet table."""

    record: DeviceRecord
    branch: str
    components: list[ComponentView]
    alerts: list[AlertRecord]
    problems: list[ComponentView]  # components that need a look

    @property
    def device_id(self) -> str:
        """The kiosk's id."""
        return self.record.device_id

    @property
    def status(self) -> str:
        """online / stale / offline / unknown / revoked."""
        return self.record.status.value

    @property
    def needs_attention(self) -> bool:
        """Not online, a component problem, or an open alert."""
        return self.record.status is not DeviceStatus.ONLINE or bool(self.problems) or bool(self.alerts)


@dataclass
class BranchSummary:
    """Presence counts of one branch office (code from `branch_code`, or the municipality alone)."""

    code: str
    name: str
    counts: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in DeviceStatus})
    problems: int = 0
    open_alerts: int = 0

    @property
    def total(self) -> int:
        """Kiosks in the branch."""
        return sum(self.counts.values())


@dataclass(frozen=True)
class FleetView:
    """Everything the fleet page shows."""

    branches: list[BranchSummary]
    rows: list[DeviceRow]
    alerts: list[AlertRecord]

    @property
    def attention(self) -> list[DeviceRow]:
        """Kiosks that need a look, offline first."""
        order = {"offline": 0, "revoked": 1, "stale": 2, "unknown": 3, "online": 4}
        return sorted(
            (r for r in self.rows if r.needs_attention), key=lambda r: (order[r.status], r.device_id)
        )

    def totals(self) -> dict[str, int]:
        """Presence counts over the whole fleet."""
        totals = {s.value: 0 for s in DeviceStatus}
        for branch in self.branches:
            for key, value in branch.counts.items():
                totals[key] += value
        return totals


def branch_code(city: str, branch: str | None) -> str:
    """URL-safe, stable code of a branch office: `<municipality>-<8 hex of the branch name>`."""
    if not branch:
        return city
    return f"{city}-{hashlib.sha256(branch.encode()).hexdigest()[:8]}"


def build_fleet_view(
    devices: list[DeviceRecord] | list[tuple[DeviceRecord, list[ComponentView]]],
    alerts: list[AlertRecord],
    names: dict[str, str] | None = None,
) -> FleetView:
    """Group devices by branch with their open alerts and component health.

    Args:
        devices: records, or (record, component views) pairs when the caller already has the views.
        alerts: open alerts.
        names: branch code → name to show.
    """
    names = names or {}
    by_device: dict[str, list[AlertRecord]] = defaultdict(list)
    for alert in alerts:
        by_device[alert.device_id].append(alert)
    branches: dict[str, BranchSummary] = {}
    rows: list[DeviceRow] = []
    for item in devices:
        record, components = item if isinstance(item, tuple) else (item, components_of(item.health))
        city = municipality_of(record.device_id) or UNBRANCHED
        code = branch_code(city, record.branch)
        branch = branches.get(code)
        if branch is None:
            city_name = names.get(city, city)
            branch = branches[code] = BranchSummary(
                code, f"{city_name} {record.branch}" if record.branch else city_name
            )
        problems = [c for c in components if c.problem]
        row = DeviceRow(record, code, components, by_device.get(record.device_id, []), problems)
        branch.counts[row.status] += 1
        branch.problems += 1 if row.problems else 0
        branch.open_alerts += len(row.alerts)
        rows.append(row)
    return FleetView(sorted(branches.values(), key=lambda b: b.code), rows, alerts)
