"""Importing the flows, translations and screens starts nothing: no thread, no Kivy window."""

from __future__ import annotations

import subprocess
import sys


def test_importing_every_flow_i18n_and_ui_module_starts_nothing() -> None:
    """GIVEN a fresh interpreter WHEN every module of kiosk_app.flows, .i18n and .ui is imported THEN there is
    still one thread and Kivy has not opened a window; the flows do not import Kivy at all."""
    code = (
        "import importlib, os, pkgutil, sys, threading\n"
        "os.environ.update(KIVY_NO_ARGS='1', KIVY_NO_CONSOLELOG='1', KIVY_NO_FILELOG='1', KIVY_USE_DEFAULTCONFIG='1')\n"
        "import kiosk_app.flows, kiosk_app.i18n\n"
        "names = []\n"
        "for pkg in (kiosk_app.flows, kiosk_app.i18n):\n"
        "    names += [m.name for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.')]\n"
        "[importlib.import_module(n) for n in names]\n"
        "flows_kivy = any(m == 'kivy' or m.startswith('kivy.') for m in sys.modules)\n"
        "import kiosk_app.ui\n"
        "ui = [m.name for m in pkgutil.walk_packages(kiosk_app.ui.__path__, 'kiosk_app.ui.')]\n"
        "[importlib.import_module(n) for n in ui]\n"
        "print(len(names) + len(ui), threading.active_count(), flows_kivy, 'kivy.core.window' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    count, threads, flows_kivy, window = done.stdout.split()[-4:]
    assert int(count) >= 30 and threads == "1"
    assert flows_kivy == "False" and window == "False"
