"""`kiosk-central issuance verify` (offline QR check of a printed certificate) and `issuance kill-switch`."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from central_broker.broker import MosquittoBroker
from central_broker.cli import main
from central_broker.rpc_server import RpcServer
from device_drivers.card.emulator.personas import persona_by_name
from madoguchi.config.broker import BrokerConfig
from madoguchi.contracts.issuance import IssueParams, IssueResult
from madoguchi.contracts.topics import FLEET_CONTROL
from madoguchi.mqtt_client import make_client
from tests.fixtures.issuance import IssuanceEnv, authenticate_in_service

DEVICE = "jp-999999-k60"


def _issued(env: IssuanceEnv) -> IssueResult:
    session_id = authenticate_in_service(env, DEVICE, persona_by_name("valid-adult"))
    return env.service.issue(
        DEVICE,
        IssueParams(
            session_id=session_id,
            type_id="kazei",
            payment_ref="P",
            amount_yen=env.service.settings.catalog.certificate_type("kazei")
            .fee_for(env.service.now())
            .amount_yen,
        ),
    )


def _public_pem(key: Ed25519PrivateKey, path: Path) -> Path:
    path.write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    return path


def test_verify_pdf_genuine_and_forged(
    issuance_env: IssuanceEnv, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN an issued certificate PDF WHEN checked with the city's key THEN it is genuine with its serial; with
    another key it is not."""
    result = _issued(issuance_env)
    pdf = tmp_path / "cert.pdf"
    pdf.write_bytes(base64.b64decode(result.pdf))
    city = _public_pem(issuance_env.signing_key, tmp_path / "city.pem")
    assert main(["issuance", "verify", str(pdf), "--key", str(city), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["genuine"] is True
    assert data["serial"] == result.binding.serial
    assert data["kind"] == "shotoku"
    assert data["printed_serial_matches"] is True
    other = _public_pem(Ed25519PrivateKey.generate(), tmp_path / "other.pem")
    assert main(["issuance", "verify", str(pdf), "--key", str(other)]) == 1
    assert "NOT GENUINE" in capsys.readouterr().out


def test_verify_qr_text(
    issuance_env: IssuanceEnv, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a QR text WHEN it is genuine THEN exit 0; WHEN one character is changed THEN exit 1."""
    result = _issued(issuance_env)
    city = _public_pem(issuance_env.signing_key, tmp_path / "city.pem")
    assert main(["issuance", "verify", "--qr", result.qr, "--key", str(city)]) == 0
    assert result.binding.serial in capsys.readouterr().out
    head, body, sig = result.qr.split(".")
    tampered = f"{head}.{body[:-2]}{'A' if body[-2] != 'A' else 'B'}{body[-1]}.{sig}"
    assert main(["issuance", "verify", "--qr", tampered, "--key", str(city)]) == 1


def test_verify_needs_file_or_qr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN neither a file nor --qr WHEN run THEN a clear error and exit 2."""
    key = _public_pem(Ed25519PrivateKey.generate(), tmp_path / "k.pem")
    assert main(["issuance", "verify", "--key", str(key)]) == 2
    assert "either a PDF file or --qr" in capsys.readouterr().err


@pytest.mark.mosquitto
def test_kill_switch_command_stops_and_resumes_a_city(
    issuance_server: tuple[IssuanceEnv, RpcServer], mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    """GIVEN the service running WHEN the operator switches issuance off for a city THEN new sessions there are
    refused within seconds; switched back on, they work again."""
    env, _ = issuance_server
    key_path = tmp_path / "control.pem"
    key_path.write_bytes(env.control_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    config = tmp_path / "central.toml"
    config.write_text(
        f'[central]\ndata_dir = "{tmp_path}"\nstore_url = "sqlite:///{tmp_path / "central.db"}"\n'
        f'[broker]\nurl = "{mosquitto.url}"\n'
    )
    base = ["issuance", "kill-switch", "--config", str(config), "--signing-key", str(key_path), "--wait", "0"]
    try:
        assert main([*base[:2], "on", *base[2:], "--municipality", "999999", "--message", "停止中"]) == 0
        deadline = time.monotonic() + 5
        while not env.service.issuance_control().suspends(DEVICE, "999999") and time.monotonic() < deadline:
            time.sleep(0.05)
        with pytest.raises(Exception, match="suspended"):
            env.service.begin(DEVICE)
        assert env.service.begin("jp-131016-k01").session_id
        assert main([*base[:2], "off", *base[2:], "--municipality", "999999"]) == 0
        deadline = time.monotonic() + 5
        while env.service.issuance_control().suspends(DEVICE, "999999") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert env.service.begin(DEVICE).session_id
    finally:
        client = make_client("clear-control", BrokerConfig(url=mosquitto.url))
        client.connect(mosquitto.host, mosquitto.port)
        client.loop_start()
        client.publish(FLEET_CONTROL, b"", qos=1, retain=True).wait_for_publish(5)
        client.disconnect()
        client.loop_stop()
