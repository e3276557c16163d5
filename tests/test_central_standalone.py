"""The central installs and runs from `madoguchi[central]` alone, as a central server installs it.

A central server has none of the kiosk's packages (Kivy, pyscard, python-escpos, pyserial), so a central
module that needs them fails there; certificate rendering comes from `madoguchi.certificates`, not from the
kiosk's printer drivers. This test installs `.[central]` into a fresh virtual environment
(`tests/fixtures/standalone.py`, shared with `tests/test_kiosk_standalone.py`) and runs `kiosk-central`
from there.
"""

from __future__ import annotations

import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from central_broker.broker import MosquittoBroker
from central_broker.cli import COMMANDS
from tests.fixtures.standalone import assert_absent, assert_every_command_starts, free_port, installed_extra
from tests.fixtures.standalone import standalone_env as _env

pytestmark = pytest.mark.slow

KIOSK_ONLY = ("kivy", "smartcard", "escpos", "serial")

# Renders the sample 住民票 as `issuance` does (format-2 QR binding the content), reads its QR back with the
# city's public key, and lists the device driver modules that rendering loaded.
_RENDER = """
import sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from central_broker.issuance.bound_pdf import render_bound
from central_broker.issuance.certqr import read_cert_qr
from madoguchi.certificates.samples import sample_certificate

key = Ed25519PrivateKey.generate()
bound = render_bound(sample_certificate(), key, "0" * 16)
claims = read_cert_qr(bound.qr_payload, key.public_key())
assert bound.pdf.startswith(b"%PDF") and claims.serial == "MH-2026-000123", claims
print(" ".join(sorted(m for m in sys.modules if m.split(".")[0] == "device_drivers")) or "none")
"""


@pytest.fixture(scope="module")
def central_bin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The bin folder of a fresh virtual environment with `madoguchi[central]` installed (not editable)."""
    with installed_extra(tmp_path_factory.mktemp("central-only"), "central") as bin_dir:
        yield bin_dir


def test_central_only_install_has_no_kiosk_packages_and_every_command_starts(central_bin: Path) -> None:
    """GIVEN `madoguchi[central]` alone in a fresh venv (no Kivy, pyscard, python-escpos, pyserial) WHEN
    `kiosk-central --help` and `kiosk-central COMMAND --help` run for every command THEN each prints its
    usage and exits 0."""
    assert_absent(central_bin, KIOSK_ONLY, "central")
    assert_every_command_starts(central_bin, "kiosk-central", (command.name for command in COMMANDS))


def test_central_only_install_renders_a_certificate_without_the_device_drivers(central_bin: Path) -> None:
    """GIVEN `madoguchi[central]` alone WHEN the issuance renderer makes a certificate PDF and reads its QR
    code back THEN it succeeds and loads no module of `device_drivers` (the kiosk's drivers)."""
    result = subprocess.run(
        [str(central_bin / "python"), "-c", _RENDER], capture_output=True, text=True, timeout=120, env=_env()
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "none"


@pytest.mark.mosquitto
def test_central_only_install_serves_the_sign_in_page_and_stops_cleanly(
    central_bin: Path, mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    """GIVEN `madoguchi[central]` alone WHEN `kiosk-central serve` runs on an empty data folder against
    Mosquitto THEN its web answers the sign-in page; WHEN it gets SIGTERM THEN it exits 0."""
    port = free_port()
    log_path = tmp_path / "central.log"
    with log_path.open("wb") as log:
        central = subprocess.Popen(
            [str(central_bin / "kiosk-central"), "serve", "--broker", mosquitto.url,
             "--data-dir", str(tmp_path / "data"), "--web-port", str(port)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=_env(),
        )  # fmt: skip
    try:
        page = _sign_in_page(f"http://127.0.0.1:{port}/login", central, log_path)
        assert 'name="password"' in page
        central.send_signal(signal.SIGTERM)
        assert central.wait(30) == 0, log_path.read_text(errors="replace")[-3000:]
    finally:
        if central.poll() is None:
            central.kill()
            central.wait(10)


def _sign_in_page(url: str, central: subprocess.Popen[bytes], log_path: Path, timeout_s: float = 30.0) -> str:
    """The page at `url` once the web answers it with 200 (fails when `central` exits or time runs out)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and central.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                body: str = answer.read().decode("utf-8")
                return body
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    pytest.fail(f"no sign-in page at {url}; central log:\n{log_path.read_text(errors='replace')[-3000:]}")
