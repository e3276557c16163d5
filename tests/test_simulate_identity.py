"""`kiosk run --simulate` with an enrolled identity (`--ca-file --cert-file --key-file`) on the mTLS
fleet broker, and its refusals: missing identity options, a device id that is not the certificate's CN."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from central_broker.broker_fleet import FleetBroker
from central_broker.pki.authority import Pki
from tests.fixtures.fleet import new_device_id, wait_for
from tests.fixtures.fleet_pki import Identity, device_identity, mosq_cmd, service_identity

pytestmark = pytest.mark.mosquitto

KIOSK = str(Path(sys.executable).parent / "kiosk")


def _identity_args(identity: Identity) -> list[str]:
    return ["--ca-file", str(identity.ca_file), "--cert-file", str(identity.cert_file),
            "--key-file", str(identity.key_file)]  # fmt: skip


def _run_refused(*args: str) -> str:
    """Run `kiosk run --simulate --ui off ARGS`, expect a refusal (exit 2, no traceback); its stderr."""
    result = subprocess.run(
        [KIOSK, "run", "--simulate", "--ui", "off", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("kiosk: error: "), result.stderr
    return result.stderr


@pytest.fixture
def kiosk_with_identity(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes started by a test; SIGKILLed at teardown if still running."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_simulated_kiosk_with_an_enrolled_identity_is_online_on_the_fleet_broker(
    fleet_broker: FleetBroker,
    fleet_pki: Pki,
    tmp_path: Path,
    kiosk_with_identity: list[subprocess.Popen[bytes]],
) -> None:
    """GIVEN the mTLS fleet broker and a device identity (CN = device id) WHEN `kiosk run --simulate`
    connects with it THEN the centre (svc-ingest, service listener) reads its retained online birth."""
    dev = new_device_id()
    identity = device_identity(fleet_pki, dev, tmp_path / "identity")
    log_path = tmp_path / "kiosk.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [KIOSK, "-v", "run", "--simulate", "--ui", "off",
             "--broker", f"mqtts://127.0.0.1:{fleet_broker.port}", *_identity_args(identity),
             "--device-id", dev, "--data-dir", str(tmp_path / "data")],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )  # fmt: skip
    kiosk_with_identity.append(process)
    reader = service_identity(fleet_pki, "svc-ingest")
    state_topic = f"kiosk/v1/d/{dev}/up/state"
    births: list[dict[str, object]] = []

    def retained_birth() -> bool:
        assert process.poll() is None, log_path.read_text(errors="replace")
        argv = mosq_cmd("mosquitto_sub", fleet_broker.service_port, reader,
                        "-t", state_topic, "-q", "1", "-C", "1", "-W", "2")  # fmt: skip
        out = subprocess.run(argv, capture_output=True, text=True, timeout=15, check=False).stdout
        for line in out.splitlines():
            message = json.loads(line)
            if message.get("online") is True:
                births.append(message)
        return bool(births)

    wait_for(retained_birth, f"the retained online birth of {dev} on the fleet broker", timeout=30)
    assert births[0]["epoch"] == 1
    process.terminate()
    assert process.wait(15) == 0
    assert "shutdown announced" in log_path.read_text(errors="replace")


def test_mqtts_broker_without_the_identity_files_is_refused_naming_what_is_missing(
    fleet_pki: Pki, tmp_path: Path
) -> None:
    """GIVEN an mqtts:// --broker WHEN the identity options are missing THEN a one-line refusal names
    each missing option and what to pass."""
    err = _run_refused("--broker", "mqtts://127.0.0.1:8883", "--data-dir", str(tmp_path / "d"))
    assert "missing: --ca-file" in err and "--cert-file" in err and "--key-file" in err
    assert "fix: pass --ca-file" in err
    identity = device_identity(fleet_pki, new_device_id(), tmp_path / "identity")
    err = _run_refused("--broker", "mqtts://127.0.0.1:8883", "--data-dir", str(tmp_path / "d"),
                       "--ca-file", str(identity.ca_file), "--cert-file", str(identity.cert_file))  # fmt: skip
    assert "missing: --key-file" in err and "missing: --ca-file" not in err
    err = _run_refused("--broker", "mqtts://127.0.0.1:8883", "--data-dir", str(tmp_path / "d"),
                       *_identity_args(identity)[:-1], str(tmp_path / "nope.pem"))  # fmt: skip
    assert f"--key-file {tmp_path / 'nope.pem'}: no such file" in err
    err = _run_refused("--data-dir", str(tmp_path / "d"), *_identity_args(identity))
    assert "go with an mqtts:// --broker" in err


def test_device_id_other_than_the_certificate_cn_is_refused(fleet_pki: Pki, tmp_path: Path) -> None:
    """GIVEN a certificate for kiosk A WHEN `--device-id` names kiosk B THEN the kiosk refuses to start,
    naming both ids; a key of another enrolment is refused too."""
    a, b = new_device_id(), new_device_id()
    identity = device_identity(fleet_pki, a, tmp_path / "a")
    base = ["--broker", "mqtts://127.0.0.1:8883", "--data-dir", str(tmp_path / "d")]
    err = _run_refused(*base, *_identity_args(identity), "--device-id", b)
    assert f"--device-id {b} does not match the certificate" in err and f"for {a} (its CN)" in err
    assert f"fix: pass --device-id {a}" in err
    other = device_identity(fleet_pki, b, tmp_path / "b")
    err = _run_refused(*base, *_identity_args(identity)[:-1], str(other.key_file))
    assert "is not the key of the certificate" in err
