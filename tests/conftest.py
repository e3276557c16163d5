"""Test set-up shared by the whole suite: environment for headless runs and the fixture plugins."""

from __future__ import annotations

import os
import tempfile

# Kivy reads these at first import; set them before anything imports it.
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_USE_DEFAULTCONFIG", "1")
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))

pytest_plugins: list[str] = [
    "tests.fixtures.printing",
    "tests.fixtures.serial_pty",
    "tests.fixtures.pcsc",
    "tests.fixtures.mosquitto",
    "tests.fixtures.central_store",
    "tests.fixtures.fleet",
    "tests.fixtures.web",
    "tests.fixtures.fleet_pki",
    "tests.fixtures.fleet_signing",
    "tests.fixtures.postgres",
    "tests.fixtures.issuance",
    "tests.fixtures.queue",
]
