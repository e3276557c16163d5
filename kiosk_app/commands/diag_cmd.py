"""`kiosk diag`: check each device of this kiosk; the sub-commands come from the device packages."""

from __future__ import annotations

import argparse
import importlib
import logging

from madoguchi.cli import group

__all__ = ["DEVICE_DIAG_MODULES", "register"]

_logger = logging.getLogger(__name__)

# Device packages that provide `register_diag(diag_subparsers)`, in the order shown in --help.
DEVICE_DIAG_MODULES = (
    "device_drivers.card.diag",
    "device_drivers.printer.diag",
    "device_drivers.payment.diag",
    "device_drivers.scanner.diag",
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `diag` and every device package's diagnostic sub-commands."""
    diag = group(
        subparsers, "diag", "check the kiosk's devices: readers, printers, payment terminal, scanner"
    )
    for name in DEVICE_DIAG_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and name.startswith(exc.name):
                continue  # that device package is not part of this build
            raise
        module.register_diag(diag)
