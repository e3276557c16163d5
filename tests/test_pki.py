"""The fleet PKI: name rules, offline root, CRLs, and device mTLS against a real Mosquitto."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from central_broker.pki import Pki
from central_broker.pki.x509 import check_name, new_key
from kiosk_app.enrolment.identity import csr_pem, key_bytes
from madoguchi.errors import UserError
from tests.provisioning_cli import command
from tests.tls_broker import TlsBroker, publish


def _csr(device_id: str) -> tuple[bytes, x509.CertificateSigningRequest]:
    key = new_key()
    return key_bytes(key), x509.load_pem_x509_csr(csr_pem(key, device_id).encode())


@pytest.mark.parametrize("name", ["a/b", "JP-131016-K01", "jp 131016", "ab", "x" * 65, "jp-131016-k01/#"])
def test_device_ca_refuses_names_that_could_escape_a_topic_subtree(name: str, tmp_path: Path) -> None:
    """GIVEN a CN with '/', capitals, spaces or a bad length WHEN checked THEN it is refused with the rule."""
    with pytest.raises(UserError, match="not allowed as a certificate name"):
        check_name(name)


def test_csr_for_another_name_is_refused(tmp_path: Path) -> None:
    """GIVEN a CSR naming k02 WHEN signed for k01 THEN the CA refuses."""
    pki = Pki.init(tmp_path / "pki")
    _, csr = _csr("jp-131016-k02")
    with pytest.raises(UserError, match="names 'jp-131016-k02', not the device 'jp-131016-k01'"):
        pki.issue_device(csr, "jp-131016-k01")


def test_issuing_and_revoking_work_with_the_root_key_offline(tmp_path: Path) -> None:
    """GIVEN `ca init --root-key-out` on removable media, then the media removed WHEN devices and services
    are issued and revoked THEN all works; device certs are short-lived; the CRL lists the revoked serial."""
    media = tmp_path / "usb" / "root.key"
    result = subprocess.run(
        command("kiosk-central", "ca", "init", "--dir", str(tmp_path / "pki"), "--root-key-out", str(media),
                "--device-days", "30"),
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert media.stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "pki" / "root" / "root.key").exists()
    shutil.rmtree(tmp_path / "usb")
    pki = Pki(tmp_path / "pki")
    _, csr = _csr("jp-131016-k01")
    issued = pki.issue_device(csr, "jp-131016-k01")
    lifetime = issued.cert.not_valid_after_utc - issued.cert.not_valid_before_utc
    assert 29 < lifetime.days <= 30
    assert issued.chain[-1] == pki.root
    pki.issue_service("broker", ["127.0.0.1"])
    pki.revoke("jp-131016-k01")
    crl = x509.load_pem_x509_crl((tmp_path / "pki" / "device-ca" / "crl.pem").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(issued.cert.serial_number) is not None
    with pytest.raises(UserError, match="revoked"):
        pki.verify_device(issued.cert)


@pytest.fixture
def broker_pki(tmp_path: Path) -> Iterator[tuple[Pki, TlsBroker]]:
    if shutil.which("mosquitto") is None:
        pytest.fail("mosquitto is not installed (scripts/bootstrap.sh installs it)")
    pki = Pki.init(tmp_path / "pki")
    pki.issue_service("broker", ["127.0.0.1"])
    broker = TlsBroker(pki.dir, tmp_path)
    broker.start()
    yield pki, broker
    broker.stop()


@pytest.mark.mosquitto
def test_mosquitto_accepts_device_certs_and_refuses_service_and_revoked_ones(
    broker_pki: tuple[Pki, TlsBroker], tmp_path: Path
) -> None:
    """GIVEN Mosquitto with cafile = device CA chain and the device CRL WHEN a device connects THEN it is
    accepted; a service certificate (same root) is refused; after `ca revoke` and a broker restart the
    device is refused too."""
    pki, broker = broker_pki
    key, csr = _csr("jp-131016-k01")
    (tmp_path / "dev.key").write_bytes(key)
    (tmp_path / "dev.pem").write_bytes(pki.issue_device(csr, "jp-131016-k01").chain_pem())
    root = pki.dir / "root" / "root.pem"
    ok = publish(broker, root, tmp_path / "dev.pem", tmp_path / "dev.key")
    assert ok.returncode == 0, ok.stderr

    svc = pki.issue_service("svc-ingest")
    refused = publish(broker, root, svc / "chain.pem", svc / "key.pem")
    assert refused.returncode != 0

    pki.revoke("jp-131016-k01", "stolen")
    broker.stop()  # Mosquitto does not re-read its CRL on SIGHUP (contract §6)
    broker.start()
    revoked = publish(broker, root, tmp_path / "dev.pem", tmp_path / "dev.key")
    assert revoked.returncode != 0
