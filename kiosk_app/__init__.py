"""The kiosk: touchscreen app, resident flows, fleet agent and the `kiosk` command line."""

from __future__ import annotations

__all__: list[str] = []
