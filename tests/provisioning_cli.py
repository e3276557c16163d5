"""How the provisioning tests run `kiosk` and `kiosk-central` in a child process, as a device or operator would."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

__all__ = ["command", "wait_listening"]

# The command modules under test, run through the same parser builder and error handling as the
# console scripts (so a half-finished command module of another team does not break these tests).
_RUNNER = """
import importlib, sys
from madoguchi.cli import build_parser, run_main
prog, package, names = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
modules = [importlib.import_module(f"{package}.commands.{n}") for n in names]
sys.exit(run_main(build_parser(prog, prog, modules), sys.argv[4:]))
"""
_MODULES = {
    "kiosk": ("kiosk_app", "enrol_cmd,update_cmd"),
    "kiosk-central": ("central_broker", "ca_cmd,enrol_cmd,release_cmd"),
}


def command(prog: str, *args: str) -> list[str]:
    """argv running `prog args...` with the provisioning command modules."""
    package, names = _MODULES[prog]
    return [sys.executable, "-c", _RUNNER, prog, package, names, *args]


def wait_listening(proc: subprocess.Popen[bytes], port: int, what: str, timeout: float = 20.0) -> None:
    """Return once `proc` accepts connections on 127.0.0.1:`port`; raise with its stderr if it exits or is late."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                stderr = (
                    proc.stderr.read().decode(errors="replace")
                    if proc.stderr and proc.poll() is not None
                    else ""
                )
                raise RuntimeError(f"{what} did not start: {stderr}") from None
            time.sleep(0.1)
