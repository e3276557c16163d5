"""A kiosk installs and runs from `madoguchi[kiosk]` alone, as the Pi image installs it.

The image's virtual environment has none of the central's packages (SQLAlchemy, FastAPI, argon2, ...),
so a kiosk module that imports `central_broker` fails there. The import-linter contracts see imports in
the source; this test sees the installed set: it builds the project from a copy of its packages, installs
`.[kiosk]` into a fresh virtual environment (dependencies from PyPI or its mirror, through pip's cache)
and runs the `kiosk` command from there.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from central_broker.broker import MosquittoBroker
from kiosk_app.cli import COMMANDS
from madoguchi.contracts.messages import StateMessage
from madoguchi.contracts.topics import Up, up
from tests.fixtures.fleet import new_device_id

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("madoguchi", "kiosk_app", "device_drivers", "central_broker", "provisioning", "madoguchi_demo")
CENTRAL_ONLY = ("argon2", "sqlalchemy", "fastapi", "uvicorn", "psycopg")


def _env(**extra: str) -> dict[str, str]:
    """The environment without this checkout on the path: only what the fresh venv installed is found."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def kiosk_bin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The bin folder of a fresh virtual environment with `madoguchi[kiosk]` installed (not editable)."""
    work = tmp_path_factory.mktemp("kiosk-only")
    source = work / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for package in (p for p in PACKAGES if (ROOT / p).is_dir()):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120, env=_env())
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"{source}[kiosk]"],
        capture_output=True, text=True, timeout=600, env=_env(), cwd=work,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-4000:]
    shutil.rmtree(source)  # run from the installed copy only
    yield venv / "bin"
    shutil.rmtree(venv, ignore_errors=True)  # about 230 MB


def test_kiosk_only_install_has_no_central_packages_and_every_command_starts(kiosk_bin: Path) -> None:
    """GIVEN `madoguchi[kiosk]` alone in a fresh venv (no argon2, SQLAlchemy, FastAPI) WHEN `kiosk --help`
    and `kiosk COMMAND --help` run for every command THEN each prints its usage and exits 0."""
    for module in CENTRAL_ONLY:
        probe = subprocess.run(
            [str(kiosk_bin / "python"), "-c", f"import {module}"], capture_output=True, timeout=60, env=_env()
        )
        assert probe.returncode != 0, f"{module} is installed: the venv is not kiosk-only"
    top = subprocess.run(
        [str(kiosk_bin / "kiosk"), "--help"], capture_output=True, text=True, timeout=60, env=_env()
    )
    assert top.returncode == 0, top.stderr[-3000:]
    for command in COMMANDS:
        assert command.name in top.stdout
        result = subprocess.run(
            [str(kiosk_bin / "kiosk"), command.name, "--help"],
            capture_output=True, text=True, timeout=60, env=_env(),
        )  # fmt: skip
        assert result.returncode == 0, f"kiosk {command.name} --help:\n{result.stderr[-3000:]}"
        assert result.stdout.startswith(f"usage: kiosk {command.name}")


@pytest.mark.mosquitto
def test_kiosk_only_install_runs_the_simulated_fleet_link_and_stops_cleanly(
    kiosk_bin: Path, mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    """GIVEN `madoguchi[kiosk]` alone WHEN `kiosk run --simulate --ui off` runs against Mosquitto THEN its
    retained birth says online; WHEN it gets SIGTERM THEN it exits 0 and the retained state says offline
    (shutdown), not the broker's will."""
    device_id = new_device_id()
    log_path = tmp_path / "kiosk.log"
    with log_path.open("wb") as log:
        kiosk = subprocess.Popen(
            [str(kiosk_bin / "kiosk"), "run", "--simulate", "--ui", "off", "--broker", mosquitto.url,
             "--data-dir", str(tmp_path / "data"), "--device-id", device_id],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=_env(),
        )  # fmt: skip
    try:
        birth = _retained_state(mosquitto, device_id, log_path, lambda state: state.online)
        assert birth.app_ver and birth.boot_id
        kiosk.send_signal(signal.SIGTERM)
        assert kiosk.wait(30) == 0, log_path.read_text(errors="replace")[-3000:]
        final = _retained_state(mosquitto, device_id, log_path, lambda state: not state.online)
        assert final.reason == "shutdown"
    finally:
        if kiosk.poll() is None:
            kiosk.kill()
            kiosk.wait(10)


def _retained_state(
    broker: MosquittoBroker,
    device_id: str,
    log_path: Path,
    wanted: Callable[[StateMessage], bool],
    timeout_s: float = 30.0,
) -> StateMessage:
    """The kiosk's retained `up/state` once `wanted(state)` holds (read with the independent mosquitto_sub)."""
    exe = shutil.which("mosquitto_sub")
    if exe is None:
        pytest.skip("mosquitto_sub is not installed (package mosquitto-clients)")
    topic = up(device_id, Up.STATE)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        read = subprocess.run(
            [exe, "-V", "mqttv5", "-h", broker.host, "-p", str(broker.port), "-t", topic, "-C", "1", "-W", "2"],
            capture_output=True, timeout=10,
        )  # fmt: skip
        if read.returncode == 0 and read.stdout.strip():
            state = StateMessage.from_bytes(read.stdout.strip())
            if wanted(state):
                return state
            time.sleep(0.2)
    pytest.fail(f"no matching state on {topic}; kiosk log:\n{log_path.read_text(errors='replace')[-3000:]}")
