"""Shared core of Madoguchi: the contracts, configuration and helpers used by kiosk and central code."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
