"""Provisioning: the kiosk image, enrolment, services and updates."""

from __future__ import annotations

__all__: list[str] = []
