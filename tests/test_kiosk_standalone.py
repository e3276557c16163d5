"""A kiosk installs and runs from `madoguchi[kiosk]` alone, as the Pi image installs it.

The image's virtual environment has none of the central's packages (SQLAlchemy, FastAPI, argon2, ...),
so a kiosk module that imports `central_broker` fails there. The import-linter contracts see imports in
the source; this test sees the installed set: it installs `.[kiosk]` into a fresh virtual environment
(`tests/fixtures/standalone.py`) and runs the `kiosk` command from there. The central's twin is
`tests/test_central_standalone.py`.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from central_broker.broker import MosquittoBroker
from kiosk_app.cli import COMMANDS
from madoguchi.contracts.messages import StateMessage
from madoguchi.contracts.topics import Up, up
from tests.fixtures.fleet import new_device_id
from tests.fixtures.standalone import assert_absent, assert_every_command_starts, installed_extra
from tests.fixtures.standalone import standalone_env as _env

pytestmark = pytest.mark.slow

CENTRAL_ONLY = ("argon2", "sqlalchemy", "fastapi", "uvicorn", "psycopg")


@pytest.fixture(scope="module")
def kiosk_bin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The bin folder of a fresh virtual environment with `madoguchi[kiosk]` installed (not editable)."""
    with installed_extra(tmp_path_factory.mktemp("kiosk-only"), "kiosk") as bin_dir:
        yield bin_dir


def test_kiosk_only_install_has_no_central_packages_and_every_command_starts(kiosk_bin: Path) -> None:
    """GIVEN `madoguchi[kiosk]` alone in a fresh venv (no argon2, SQLAlchemy, FastAPI) WHEN `kiosk --help`
    and `kiosk COMMAND --help` run for every command THEN each prints its usage and exits 0."""
    assert_absent(kiosk_bin, CENTRAL_ONLY, "kiosk")
    assert_every_command_starts(kiosk_bin, "kiosk", (command.name for command in COMMANDS))


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
