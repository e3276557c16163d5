"""The central system: broker set-up, ingest, catalog, issuance, dashboard and `kiosk-central`."""

from __future__ import annotations

__all__: list[str] = []
