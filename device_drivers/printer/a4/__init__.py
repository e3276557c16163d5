"""A4 printing through CUPS, and certificates rendered for it (`madoguchi.certificates`, printer errors)."""

from __future__ import annotations

from device_drivers.printer.a4.certificate import RenderedCertificate, render_certificate
from device_drivers.printer.a4.cups import A4Health, A4Status, CupsPrinter, JobState

__all__ = [
    "A4Health",
    "A4Status",
    "CupsPrinter",
    "JobState",
    "RenderedCertificate",
    "render_certificate",
]
