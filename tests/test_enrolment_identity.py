"""The device identity survives refusals, power cuts during renewal and relative paths (issue 17 item 3)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from kiosk_app.enrolment import enrol
from tests.provisioning_cli import command
from tests.test_enrolment import Central, central, kiosk_cli
from tests.tls_broker import TlsBroker, publish

__all__ = ["central"]  # the module-scoped enrolment server fixture of test_enrolment

IDENTITY_FILES = ("key.pem", "cert.pem", "chain.pem", "ca.pem", "enrolment.json")
# Kill points of a renewal, in order (kiosk_app.enrolment.swap.swap_steps); spelled out so this test
# states the contract instead of reading it from the code under test.
KILL_ENV = "MADOGUCHI_TEST_KILL_AT"
BEFORE_COMMIT = [f"staged:{name}" for name in IDENTITY_FILES]
AFTER_COMMIT = ["committed", *(f"renamed:{name}" for name in IDENTITY_FILES), "done"]


def _snapshot(data: Path) -> dict[str, bytes]:
    files = [data / "identity" / name for name in IDENTITY_FILES] + [data / "config" / "kiosk.toml"]
    return {str(path.relative_to(data)): path.read_bytes() for path in files}


def _assert_matching_pair(identity: Path) -> x509.Certificate:
    """Key, certificate, chain and state all belong to one identity; no staging or journal left."""
    key = load_pem_private_key((identity / "key.pem").read_bytes(), password=None)
    cert = x509.load_pem_x509_certificate((identity / "cert.pem").read_bytes())
    chain = x509.load_pem_x509_certificates((identity / "chain.pem").read_bytes())
    state = json.loads((identity / "enrolment.json").read_text())
    assert cert.public_key() == key.public_key(), "key.pem and cert.pem are from different identities"
    assert chain[0] == cert, "chain.pem does not start with cert.pem"
    assert state["not_after"] == int(cert.not_valid_after_utc.timestamp())
    assert (identity / "key.pem").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in identity.iterdir() if p.name.startswith(".")) == []
    return cert


@pytest.fixture
def broker(central: Central, tmp_path: Path) -> Iterator[TlsBroker]:
    """Mosquitto's device listener on the central's PKI (server cert: the enrolment one, for 127.0.0.1)."""
    pki = tmp_path / "broker-pki"
    shutil.copytree(central.pki, pki)
    (pki / "services" / "enrol").rename(pki / "services" / "broker")
    running = TlsBroker(pki, tmp_path)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.mark.mosquitto
def test_refused_enrolment_keeps_the_enrolled_identity_byte_for_byte_and_it_still_connects(
    central: Central, broker: TlsBroker, tmp_path: Path
) -> None:
    """GIVEN an enrolled kiosk WHEN `kiosk enrol` runs again with its used token file, then with an unknown
    pairing code, and the centre refuses both THEN key, certificate, chain, root, state and config are
    byte-identical and the kiosk still connects to the broker with them."""
    device, data = "jp-131016-k31", tmp_path / "data"
    token_file = tmp_path / "enrol.json"
    central.token(device, token_file)
    used_copy = tmp_path / "used.json"
    used_copy.write_bytes(token_file.read_bytes())
    first = kiosk_cli(
        "enrol", "--token-file", str(token_file), "--data-dir", str(data), "--ca-file", str(central.root)
    )
    assert first.returncode == 0, first.stderr
    before = _snapshot(data)

    used = kiosk_cli(
        "enrol", "--token-file", str(used_copy), "--data-dir", str(data), "--ca-file", str(central.root)
    )
    assert used.returncode == 2 and "already used" in used.stderr, used.stderr
    unknown = kiosk_cli(
        "enrol", "--pairing-code", "ZZZZZZZZZZ", "--device", device, "--central", central.url,
        "--data-dir", str(data), "--ca-file", str(central.root),
    )  # fmt: skip
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr, unknown.stderr

    assert _snapshot(data) == before
    _assert_matching_pair(data / "identity")
    identity = data / "identity"
    result = publish(broker, identity / "ca.pem", identity / "chain.pem", identity / "key.pem")
    assert result.returncode == 0, result.stderr


@pytest.mark.mosquitto
def test_renewal_killed_at_every_step_leaves_old_or_new_identity_never_mixed(
    central: Central, broker: TlsBroker, tmp_path: Path
) -> None:
    """GIVEN an enrolled kiosk WHEN `kiosk renew --force` is killed (SIGKILL, as a power cut) at each step of
    writing and renaming the new identity THEN the next start finds a matching key + certificate + chain +
    state: the old one if killed before the commit, the new one after; it renews again with it, and finally
    connects to the broker."""
    device, data = "jp-131016-k32", tmp_path / "data"
    identity = data / "identity"
    enrol(central.url, data, device, central.root, token=central.token(device)["token"])
    for step in BEFORE_COMMIT + AFTER_COMMIT:
        before = _snapshot(data)
        env = {**os.environ, KILL_ENV: step}
        killed = subprocess.run(
            command("kiosk", "renew", "--force", "--data-dir", str(data)),
            capture_output=True, text=True, timeout=60, env=env, check=False,
        )  # fmt: skip
        assert killed.returncode == -9, (
            f"{step}: not killed at this step ({killed.returncode}) {killed.stderr}"
        )
        # The next start: any `kiosk` command that reads the identity completes or discards the swap.
        restart = kiosk_cli("renew", "--data-dir", str(data), "--json")
        assert restart.returncode == 0, f"{step}: {restart.stderr}"
        cert = _assert_matching_pair(identity)
        old = x509.load_pem_x509_certificate(before["identity/cert.pem"])
        if step in BEFORE_COMMIT:
            assert _snapshot(data) == before, f"{step}: killed before the commit must keep the old identity"
        else:
            assert cert.serial_number != old.serial_number, f"{step}: a committed renewal must be completed"
    renewed = kiosk_cli("renew", "--force", "--data-dir", str(data), "--json")
    assert renewed.returncode == 0, renewed.stderr
    _assert_matching_pair(identity)
    result = publish(broker, identity / "ca.pem", identity / "chain.pem", identity / "key.pem")
    assert result.returncode == 0, result.stderr


def test_enrol_and_renew_with_a_relative_data_dir(central: Central, tmp_path: Path) -> None:
    """GIVEN `kiosk enrol --data-dir rel/data` run from a folder WHEN it enrols THEN it succeeds without a
    traceback, the configuration names absolute identity files under that folder, and `kiosk renew` with the
    same relative path renews."""
    device = "jp-131016-k33"
    token = central.token(device)["token"]
    token_file = tmp_path / "enrol.json"
    token_file.write_text(json.dumps({"device_id": device, "token": token, "central_url": central.url}))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command("kiosk", *args), capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False
        )

    enrolled = run(
        "enrol", "--token-file", str(token_file), "--data-dir", "rel/data", "--ca-file", str(central.root)
    )
    assert "Traceback" not in enrolled.stderr, enrolled.stderr
    assert enrolled.returncode == 0, enrolled.stderr
    config = tomllib.loads((tmp_path / "rel" / "data" / "config" / "kiosk.toml").read_text())
    assert Path(config["broker"]["key_file"]) == tmp_path / "rel" / "data" / "identity" / "key.pem"
    _assert_matching_pair(tmp_path / "rel" / "data" / "identity")
    renewed = run("renew", "--force", "--data-dir", "rel/data", "--json")
    assert renewed.returncode == 0, renewed.stderr
    assert json.loads(renewed.stdout)["renewed"] is True


def test_kiosk_run_completes_a_renewal_cut_after_its_commit(central: Central, tmp_path: Path) -> None:
    """GIVEN a renewal killed right after its commit (key renamed, certificate not yet) WHEN the kiosk app
    starts with the enrolled kiosk.toml (`kiosk run --config`) THEN it loads a matching new key and
    certificate before anything connects."""
    import argparse

    from kiosk_app.commands.run_cmd import _config

    device, data = "jp-131016-k34", tmp_path / "data"
    enrol(central.url, data, device, central.root, token=central.token(device)["token"])
    killed = subprocess.run(
        command("kiosk", "renew", "--force", "--data-dir", str(data)),
        capture_output=True, text=True, timeout=60, env={**os.environ, KILL_ENV: "renamed:key.pem"}, check=False,
    )  # fmt: skip
    assert killed.returncode == -9, killed.stderr
    args = argparse.Namespace(
        config=data / "config" / "kiosk.toml", simulate=False, data_dir=None, broker=None, device_id=None,
        ca_file=None, cert_file=None, key_file=None,
    )  # fmt: skip
    config, _health = _config(args)
    assert config.broker.key_file == data / "identity" / "key.pem"
    _assert_matching_pair(data / "identity")


def test_first_enrolment_cut_after_its_commit_completes_at_the_next_boot_without_the_used_token(
    central: Central, tmp_path: Path
) -> None:
    """GIVEN a first-boot `kiosk enrol` killed after the centre's answer was committed but before the certificate
    was renamed (so kiosk-enrol.service runs again at the next boot) WHEN the same `kiosk enrol` runs again with
    the now used token THEN it completes the enrolment from disk and succeeds without asking the centre."""
    device, data = "jp-131016-k35", tmp_path / "data"
    token_file = tmp_path / "enrol.json"
    token_file.write_text(
        json.dumps({"device_id": device, "token": central.token(device)["token"], "central_url": central.url})
    )
    args = ("enrol", "--token-file", str(token_file), "--data-dir", str(data), "--ca-file", str(central.root))
    killed = subprocess.run(
        command("kiosk", *args), capture_output=True, text=True, timeout=60,
        env={**os.environ, KILL_ENV: "renamed:key.pem"}, check=False,
    )  # fmt: skip
    assert killed.returncode == -9, killed.stderr
    assert not (data / "identity" / "cert.pem").exists()
    again = kiosk_cli(*args)
    assert again.returncode == 0, again.stderr
    _assert_matching_pair(data / "identity")
    assert (data / "config" / "kiosk.toml").exists()
