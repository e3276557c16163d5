"""Helpers for the child processes we start (brokers, demo services)."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import signal
import sys

__all__ = ["die_with_parent"]

_logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """`preexec_fn` for `subprocess.Popen`: on Linux the child gets SIGTERM when its parent dies.

    Keeps a demo service from outliving a demo that was killed. The signal follows the *thread*
    that started the child, so start children from a long-lived thread. Linux clears the setting
    when the child changes its user (Mosquitto started as root drops to `mosquitto`), so it does
    not cover a broker started by root.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
