"""The kiosk configuration (TOML, CONFIG_SPEC shape) the central hands to a newly enrolled device."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import PurePosixPath

__all__ = ["BranchDefaults", "kiosk_toml"]


@dataclass(frozen=True)
class BranchDefaults:
    """Fleet-wide settings the enrolment server fills into every device's configuration."""

    broker_url: str = "mqtts://broker.invalid:8883"
    card_reader: str = "pcsc://CCID"  # PC/SC names contain it for USB CCID readers; a substring match
    receipt_printer: str = "escpos+usb://0416:5011"
    a4_printer: str = "cups://Kiosk_A4"
    payment: str = "serial:///dev/kiosk/payment?baud=9600"
    scanner: str = "serial:///dev/kiosk/scanner?baud=9600"
    language: str = "ja"
    orientation: str = "portrait"


def _s(value: str) -> str:
    # A JSON string literal is a valid TOML basic string for the characters we emit.
    return json.dumps(value, ensure_ascii=False)


def kiosk_toml(device_id: str, branch: str, data_dir: str, defaults: BranchDefaults) -> str:
    """The device's `kiosk.toml`: identity files under `<data_dir>/identity`, state under `<data_dir>/kiosk`."""
    data = PurePosixPath(data_dir)
    identity = data / "identity"
    return "\n".join(
        [
            "# Written by enrolment (kiosk-central enrol-serve). Local changes are kept until re-enrolment.",
            "[kiosk]",
            f"device_id = {_s(device_id)}",
            f"branch = {_s(branch)}",
            f"data_dir = {_s(str(data / 'kiosk'))}",
            "",
            "[broker]",
            f"url = {_s(defaults.broker_url)}",
            f"ca_file = {_s(str(identity / 'ca.pem'))}",
            f"cert_file = {_s(str(identity / 'chain.pem'))}",
            f"key_file = {_s(str(identity / 'key.pem'))}",
            "keepalive = 30",
            "",
            "[devices]",
            f"card_reader = {_s(defaults.card_reader)}",
            f"receipt_printer = {_s(defaults.receipt_printer)}",
            f"a4_printer = {_s(defaults.a4_printer)}",
            f"payment = {_s(defaults.payment)}",
            f"scanner = {_s(defaults.scanner)}",
            "",
            "[ui]",
            f"language = {_s(defaults.language)}",
            f"orientation = {_s(defaults.orientation)}",
            "idle_timeout_s = 60",
            "",
            "[health]",
            "interval_s = 60",
            "",
            "[updates]",
            f"releases_dir = {_s(str(data / 'releases'))}",
            f"release_keys = {_s('/etc/madoguchi/release-keys')}",
            "",
        ]
    )
