"""App updates: signed bundles of tiny wheels built here, installed side by side, health gate, rollback."""

from __future__ import annotations

import json
import subprocess
import tarfile
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from madoguchi.contracts.signed import key_id
from madoguchi.errors import UserError
from provisioning.updates import (
    CommandRestarter,
    ReadinessCheck,
    ReadinessFile,
    ReleaseManager,
    UpdateFailed,
    build_bundle,
    sign_bundle,
)
from tests.provisioning_cli import command
from tests.release_wheels import make_wheel


def make_bundle(tmp: Path, version: str, key: Ed25519PrivateKey, healthy: bool = True) -> Path:
    wheels = tmp / f"wheels-{version}"
    make_wheel(wheels, version, healthy)
    out = tmp / f"release-{version}.tar"
    build_bundle(wheels, version, out, app="kioskfake")
    sign_bundle(out, key)
    return out


class Kiosk:
    """A data partition, the trusted key, and the real restart/health path (the app runs from `current`)."""

    def __init__(self, tmp: Path, key: Ed25519PrivateKey) -> None:
        self.data = tmp / "data"
        self.ready = tmp / "run" / "ready.json"
        self.ready.parent.mkdir(parents=True)
        self.keys = {key_id(key.public_key()): key.public_key()}
        self.manager = ReleaseManager(self.data, with_pip=False)
        python = self.data / "releases" / "current" / "venv" / "bin" / "python"
        self.restarter = CommandRestarter([str(python), "-m", "kioskfake", str(self.ready)])
        self.health = ReadinessCheck(self.ready, poll_s=0.05)

    def apply(self, bundle: Path) -> None:
        self.manager.apply(bundle, self.keys, self.health, self.restarter, timeout_s=1.5)

    def running(self) -> str:
        record = ReadinessFile(self.ready).read()
        return str(record["version"]) if record else ""


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_signed_release_installs_side_by_side_and_switches(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    """GIVEN 1.0.0 running WHEN 1.1.0 is applied THEN both are installed, `current` points at 1.1.0,
    `previous` at 1.0.0, and the app that answered the health check is 1.1.0 from its own venv."""
    kiosk = Kiosk(tmp_path, key)
    kiosk.apply(make_bundle(tmp_path, "1.0.0", key))
    kiosk.apply(make_bundle(tmp_path, "1.1.0", key))
    status = kiosk.manager.status()
    assert (status.current, status.previous, status.highest) == ("1.1.0", "1.0.0", "1.1.0")
    assert status.installed == ["1.0.0", "1.1.0"]
    assert (kiosk.data / "releases" / "current").resolve() == kiosk.data / "releases" / "1.1.0"
    assert kiosk.running() == "1.1.0"


def test_failed_health_check_rolls_back_to_the_previous_release(
    tmp_path: Path, key: Ed25519PrivateKey
) -> None:
    """GIVEN 1.0.0 healthy WHEN 1.1.0 comes up but never sends a heartbeat THEN the update fails, `current`
    points at 1.0.0 again, 1.0.0 runs again, and the history says rolled back."""
    kiosk = Kiosk(tmp_path, key)
    kiosk.apply(make_bundle(tmp_path, "1.0.0", key))
    with pytest.raises(UpdateFailed, match=r"rolled back to 1\.0\.0"):
        kiosk.apply(make_bundle(tmp_path, "1.1.0", key, healthy=False))
    status = kiosk.manager.status()
    assert (status.current, status.previous, status.highest) == ("1.0.0", None, "1.0.0")
    assert kiosk.running() == "1.0.0"
    assert status.history[-1]["result"] == "rolled-back"
    assert "no heartbeat" in str(status.history[-1]["detail"])


def test_forged_tampered_and_older_bundles_are_refused(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    """GIVEN 1.1.0 current WHEN bundles signed by an unknown key, with a modified wheel, or of a lower or
    equal version are applied THEN each is refused with the reason and `current` stays 1.1.0."""
    kiosk = Kiosk(tmp_path, key)
    kiosk.apply(make_bundle(tmp_path, "1.1.0", key))

    forged = make_bundle(tmp_path / "forged", "2.0.0", Ed25519PrivateKey.generate())
    with pytest.raises(UserError, match="no valid signature by a current key"):
        kiosk.apply(forged)

    good = make_bundle(tmp_path / "t", "2.0.0", key)
    tampered = tmp_path / "tampered.tar"
    with tarfile.open(good) as src, tarfile.open(tampered, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name.endswith(".whl"):
                data = data[:-1] + bytes([data[-1] ^ 1])
            dst.addfile(member, __import__("io").BytesIO(data))
    with pytest.raises(UserError, match="does not match its sha256"):
        kiosk.apply(tampered)

    for version in ("1.0.0", "1.1.0"):
        with pytest.raises(UserError, match="going back to a lower version is refused"):
            kiosk.apply(make_bundle(tmp_path / version, version, key))
    assert kiosk.manager.status().current == "1.1.0"
    assert kiosk.manager.status().installed == ["1.1.0"]


def test_readiness_file_gate_needs_ready_and_a_heartbeat_after_the_switch(tmp_path: Path) -> None:
    """GIVEN the app's ReadinessFile WHEN only READY was written THEN the gate fails; after a heartbeat it passes;
    a record from before the switch or of another version never passes."""
    ready = tmp_path / "ready.json"
    app, check = ReadinessFile(ready), ReadinessCheck(ready, poll_s=0.01)
    since = time.time()
    app.ready("2.0.0")
    assert not check.wait("2.0.0", since, 0.05).healthy
    time.sleep(0.01)
    app.heartbeat()
    assert check.wait("2.0.0", since, 0.05).healthy
    assert not check.wait("2.1.0", since, 0.05).healthy
    assert not check.wait("2.0.0", time.time() + 1, 0.05).healthy


def test_release_commands_build_sign_apply_status_and_rollback(tmp_path: Path) -> None:
    """GIVEN `kiosk-central release keygen/build/sign` WHEN the kiosk runs `kiosk update apply`, `status --json`
    and `rollback` THEN the releases switch as shown by status, with a pip-equipped venv per release."""
    key = tmp_path / "release-signing.key"

    def run(prog: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(command(prog, *args), capture_output=True, text=True, timeout=120, check=False)

    assert run("kiosk-central", "release", "keygen", "--out", str(key)).returncode == 0
    assert key.stat().st_mode & 0o777 == 0o600
    bundles = []
    for version in ("3.0.0", "3.1.0"):
        wheels = make_wheel(tmp_path / f"w{version}", version).parent
        bundle = tmp_path / f"{version}.tar"
        built = run("kiosk-central", "release", "build", "--wheels", str(wheels), "--version", version,
                    "--app", "kioskfake", "--extras", "", "--out", str(bundle))  # fmt: skip
        assert built.returncode == 0, built.stderr
        unsigned = run("kiosk", "update", "apply", str(bundle), "--keys", str(key.with_suffix(".pub")))
        assert unsigned.returncode == 2 and "is not signed" in unsigned.stderr
        assert run("kiosk-central", "release", "sign", str(bundle), "--key", str(key)).returncode == 0
        bundles.append(bundle)

    data, ready = tmp_path / "data", tmp_path / "ready.json"
    gate = ["--data-dir", str(data), "--ready-file", str(ready), "--timeout", "5",
            "--restart-cmd", f"{data}/releases/current/venv/bin/python -m kioskfake {ready}"]  # fmt: skip
    for bundle in bundles:
        applied = run("kiosk", "update", "apply", str(bundle), "--keys", str(key.with_suffix(".pub")), *gate)
        assert applied.returncode == 0, applied.stderr
    assert (data / "releases" / "3.1.0" / "venv" / "bin" / "pip").exists()
    status = json.loads(run("kiosk", "update", "status", "--data-dir", str(data), "--json").stdout)
    assert (status["current"], status["previous"]) == ("3.1.0", "3.0.0")
    back = run("kiosk", "update", "rollback", *gate)
    assert back.returncode == 0, back.stderr
    status = json.loads(run("kiosk", "update", "status", "--data-dir", str(data), "--json").stdout)
    assert (status["current"], status["previous"], status["highest"]) == ("3.0.0", "3.1.0", "3.1.0")
    assert json.loads(ready.read_text())["version"] == "3.0.0"


def test_first_update_from_the_image_factory_release_can_roll_back_to_it(
    tmp_path: Path, key: Ed25519PrivateKey
) -> None:
    """GIVEN `current` pointing at the factory release baked into the image (outside <data>/releases) WHEN an
    unhealthy 2.0.0 is applied THEN `current` points at the factory release again and it runs."""
    factory = Kiosk(tmp_path / "image", key)
    factory.apply(make_bundle(tmp_path, "1.0.0", key))
    kiosk = Kiosk(tmp_path / "device", key)
    (kiosk.data / "releases").mkdir(parents=True)
    factory_dir = factory.data / "releases" / "1.0.0"
    (kiosk.data / "releases" / "current").symlink_to(factory_dir)
    with pytest.raises(UpdateFailed, match=r"rolled back to 1\.0\.0"):
        kiosk.apply(make_bundle(tmp_path / "d", "2.0.0", key, healthy=False))
    assert (kiosk.data / "releases" / "current").resolve() == factory_dir
    assert kiosk.running() == "1.0.0"


def test_build_and_verify_refuse_wheels_the_kiosks_cannot_install(tmp_path: Path) -> None:
    """GIVEN wheels built for x86_64, or no wheel of the app itself WHEN `release build` or `release verify`
    checks them against the kiosks (default cp313 manylinux aarch64) THEN each refuses, naming the wheel and
    why; aarch64 and pure wheels pass, and `--target-platform` names another target."""
    key = tmp_path / "release.key"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(command("kiosk-central", "release", *args), capture_output=True, text=True,
                              timeout=120, check=False)  # fmt: skip

    assert run("keygen", "--out", str(key)).returncode == 0
    x86 = tmp_path / "x86"
    make_wheel(x86, "4.0.0")
    make_wheel(x86, "2.5.0", name="fastcore", tag="cp313-cp313-manylinux_2_17_x86_64")
    built = run("build", "--wheels", str(x86), "--version", "4.0.0", "--app", "kioskfake", "--extras", "",
                "--out", str(tmp_path / "x86.tar"))  # fmt: skip
    assert built.returncode == 2
    assert "fastcore-2.5.0-cp313-cp313-manylinux_2_17_x86_64.whl cannot install on the kiosks" in built.stderr
    assert "cp313 manylinux_2_41_aarch64" in built.stderr and not (tmp_path / "x86.tar").exists()

    no_app = tmp_path / "no-app"
    make_wheel(no_app, "2.5.0", name="fastcore", tag="cp313-cp313-manylinux_2_17_aarch64")
    built = run("build", "--wheels", str(no_app), "--version", "4.0.0", "--out", str(tmp_path / "n.tar"))
    assert built.returncode == 2 and "no wheel of the app 'madoguchi'" in built.stderr

    pi = tmp_path / "pi"
    make_wheel(pi, "4.0.0")
    make_wheel(pi, "2.5.0", name="fastcore", tag="cp313-cp313-manylinux_2_17_aarch64")
    built = run("build", "--wheels", str(pi), "--version", "4.0.0", "--app", "kioskfake", "--extras", "",
                "--out", str(tmp_path / "pi.tar"), "--key", str(key))  # fmt: skip
    assert built.returncode == 0, built.stderr
    pub = str(key.with_suffix(".pub"))
    verified = run("verify", str(tmp_path / "pi.tar"), "--keys", pub)
    assert verified.returncode == 0 and "installs on cp313 manylinux_2_41_aarch64" in verified.stdout

    # A bundle built (and signed) for another target passes its own target and is refused for the kiosks.
    built = run("build", "--wheels", str(x86), "--version", "4.0.0", "--app", "kioskfake", "--extras", "",
                "--out", str(tmp_path / "x86.tar"), "--key", str(key),
                "--target-platform", "manylinux_2_28_x86_64")  # fmt: skip
    assert built.returncode == 0, built.stderr
    refused = run("verify", str(tmp_path / "x86.tar"), "--keys", pub)
    assert (
        refused.returncode == 2 and "fastcore-2.5.0-cp313-cp313-manylinux_2_17_x86_64.whl" in refused.stderr
    )
    assert run("verify", str(tmp_path / "x86.tar"), "--keys", pub, "--target-platform",
               "manylinux_2_28_x86_64").returncode == 0  # fmt: skip


def test_a_bundle_pip_cannot_install_is_recorded_as_failed_with_pips_reason(
    tmp_path: Path, key: Ed25519PrivateKey
) -> None:
    """GIVEN 1.0.0 current WHEN 1.1.0's app needs a distribution the bundle lacks THEN the real pip fails, the
    apply raises with pip's reason, the history records `failed` with that trimmed reason (what the app
    reports as FAILED), nothing of 1.1.0 stays installed and 1.0.0 keeps running."""
    kiosk = Kiosk(tmp_path, key)
    kiosk.apply(make_bundle(tmp_path, "1.0.0", key))
    wheels = tmp_path / "wheels-1.1.0"
    make_wheel(wheels, "1.1.0", requires=("kioskfake-printing>=2",))
    bundle = tmp_path / "release-1.1.0.tar"
    build_bundle(wheels, "1.1.0", bundle, app="kioskfake")
    sign_bundle(bundle, key)
    with pytest.raises(UserError, match=r"installing release 1\.1\.0 failed"):
        kiosk.apply(bundle)
    status = kiosk.manager.status()
    last = status.history[-1]
    assert (last["version"], last["action"], last["result"]) == ("1.1.0", "apply", "failed")
    detail = str(last["detail"])
    assert "kioskfake-printing" in detail and len(detail) <= 450 and "Traceback" not in detail
    assert (status.current, status.installed) == ("1.0.0", ["1.0.0"]) and kiosk.running() == "1.0.0"
