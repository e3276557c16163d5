"""`kiosk-central fleet`: list the kiosks in the central store with status, versions, component
health and open alerts."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from central_broker.store import DEFAULT_STALE_AFTER_S, AlertRecord, DeviceRecord, open_store
from madoguchi.cli import add_json_flag, emit
from madoguchi.config.central import load_central_config
from madoguchi.errors import UserError

__all__ = ["components", "register"]

_COMPONENTS = ("printer", "a4_printer", "card_reader", "payment", "scanner", "touch", "net")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `fleet`."""
    fleet = subparsers.add_parser(
        "fleet",
        help="list kiosks with status (online/stale/offline/unknown), epoch, versions, health, open alerts",
        description="List the kiosks known to the central store, by branch office. Give --config FILE or "
        "--store URL.",
    )
    fleet.add_argument("--config", type=Path, help="central TOML file (its store_url and stale_after_s)")
    fleet.add_argument("--store", help="store URL, e.g. sqlite:////var/lib/madoguchi/central.db")
    fleet.add_argument(
        "--stale-after",
        type=float,
        help=f"seconds without health before a kiosk shows stale (default: config, else {DEFAULT_STALE_AFTER_S:.0f})",
    )
    fleet.add_argument(
        "--branch", help="only the kiosks of this branch office (as in the kiosk's configuration)"
    )
    add_json_flag(fleet)
    fleet.set_defaults(func=_fleet)


def components(record: DeviceRecord) -> dict[str, str]:
    """Component name → status from the latest health (empty before the first health)."""
    if record.health is None:
        return {}
    result = {}
    for name in _COMPONENTS:
        part = getattr(record.health, name)
        if part is not None:
            result[name] = part.status.value
    return result


def _age(ms: int, now_ms: int) -> str:
    seconds = max(0, (now_ms - ms) // 1000)
    if seconds < 120:
        return f"{seconds}s ago"
    if seconds < 7200:
        return f"{seconds // 60}m ago"
    return f"{seconds // 3600}h ago"


def _table(records: list[DeviceRecord], alerts: dict[str, list[AlertRecord]], store_url: str) -> str:
    if not records:
        return f"no kiosks in {store_url} yet"
    now = int(time.time() * 1000)
    rows = [("BRANCH", "DEVICE", "STATUS", "EPOCH", "APP", "CATALOG", "LAST SEEN", "HEALTH", "ALERTS")]
    for r in records:
        parts = components(r)
        bad = [f"{name}={status}" for name, status in parts.items() if status != "ok"]
        health = "no health yet" if not parts else ("all ok" if not bad else ", ".join(bad))
        status = r.status.value + (f" ({r.offline_reason})" if r.offline_reason else "")
        rows.append(
            (r.branch or "-", r.device_id, status, str(r.epoch if r.epoch is not None else "-"), r.app_ver or "-",
             str(r.catalog_ver if r.catalog_ver is not None else "-"), _age(r.last_seen, now), health,
             ", ".join(f"{a.severity}:{a.code}" for a in alerts.get(r.device_id, [])) or "-")
        )  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def _fleet(args: argparse.Namespace) -> int:
    if (args.config is None) == (args.store is None):
        raise UserError(
            "give exactly one of --config FILE or --store URL", "e.g. --config /etc/madoguchi/central.toml"
        )
    stale_after = DEFAULT_STALE_AFTER_S
    if args.config is not None:
        config = load_central_config(args.config)
        url, stale_after = config.central.store_url, float(config.fleet.stale_after_s)
    else:
        url = args.store
    if args.stale_after is not None:
        stale_after = args.stale_after
    store = open_store(url, stale_after_s=stale_after, create=False)
    try:
        records = sorted(store.devices(), key=lambda r: (r.branch or "\uffff", r.device_id))
        if args.branch is not None:
            records = [r for r in records if r.branch == args.branch]
        alerts: dict[str, list[AlertRecord]] = {}
        for alert in store.alerts(open_only=True):
            alerts.setdefault(alert.device_id, []).append(alert)
        shown_url = store.url
    finally:
        store.close()
    data = {
        "store": shown_url,
        "stale_after_s": stale_after,
        "devices": [
            {
                **r.to_dict(),
                "components": components(r),
                "alerts": [a.to_dict() for a in alerts.get(r.device_id, [])],
            }
            for r in records
        ],
    }
    emit(data, args.json, lambda: _table(records, alerts, shown_url))
    return 0
