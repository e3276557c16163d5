"""The demo catalog: the sample catalog open around the clock, every day of the year.

The demo and the tests that start `kiosk-central serve` read the wall clock; with the shipped hours
(6:30–23:00, closed Dec 29–Jan 3) they could not issue a certificate when run at night or over New Year.
Never use it for a real municipality: its hours are not the city's.
"""

from __future__ import annotations

import json
from pathlib import Path

from madoguchi.contracts.catalog import Catalog, load_sample_catalog

__all__ = ["always_open_catalog", "write_always_open_catalog"]

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ALL_DAY = [{"open": "00:00", "close": "23:59:59.999999"}]
_LABEL = {"ja": "デモ: 24時間", "en": "Demo: open 24 hours"}


def _always_open_data(catalog: Catalog) -> dict[str, object]:
    data = catalog.model_dump(mode="json")
    weekly = dict.fromkeys(_WEEKDAYS, _ALL_DAY)
    hours = data["service_hours"]
    hours.update(weekly=weekly, closed_on_holidays=False, closed_periods=[], holidays=[], maintenance=[])
    hours["label"] = _LABEL
    for cert_type in data["certificate_types"]:
        if cert_type.get("hours"):
            cert_type["hours"].update(weekly=weekly, closed_on_holidays=False, label=_LABEL)
    return data


def always_open_catalog(catalog: Catalog | None = None) -> Catalog:
    """`catalog` (default: the sample catalog) with every certificate type open at every hour."""
    return Catalog.model_validate(_always_open_data(catalog or load_sample_catalog()))


def write_always_open_catalog(folder: Path) -> Path:
    """Write the always-open sample catalog into `folder`; its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "catalog-always-open.json"
    path.write_text(
        json.dumps(_always_open_data(load_sample_catalog()), ensure_ascii=False), encoding="utf-8"
    )
    return path
