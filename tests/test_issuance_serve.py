"""The issuance service as deployed: `kiosk-central issuance serve --demo` in its own process, a kiosk
issuing through Mosquitto with an emulated card of the same test CA, and a clean stop on SIGTERM.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from central_broker.broker import MosquittoBroker
from central_broker.store import open_store
from device_drivers.card.emulator.material import JpkiTestCa
from device_drivers.card.emulator.personas import persona_by_name
from device_drivers.card.pin import Pin
from kiosk_app.issuance_client import IssuanceClient, KioskSession
from kiosk_app.rpc_client import RpcCallError, RpcClient, RpcTimeout
from madoguchi.config.broker import BrokerConfig
from madoguchi.contracts.catalog_demo import write_always_open_catalog
from tests.fixtures.issuance import emulated_card

pytestmark = [pytest.mark.mosquitto, pytest.mark.slow]


@pytest.fixture
def served(
    tmp_path: Path, mosquitto: MosquittoBroker
) -> Iterator[tuple[subprocess.Popen[bytes], Path, Ed25519PrivateKey]]:
    """The service in a subprocess with its own emulator data folder."""
    key = Ed25519PrivateKey.generate()
    (tmp_path / "sign.pem").write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    (tmp_path / "audit.key").write_text(base64.b64encode(os.urandom(32)).decode())
    emulator_dir = tmp_path / "emulator"
    env = {**os.environ, "MADOGUCHI_CARD_EMULATOR_DIR": str(emulator_dir)}
    command = [
        str(Path(sys.executable).with_name("kiosk-central")), "issuance", "serve", "--demo",
        "--broker", mosquitto.url, "--data-dir", str(tmp_path / "data"),
        "--signing-key", str(tmp_path / "sign.pem"), "--audit-key", str(tmp_path / "audit.key"),
        "--catalog", str(write_always_open_catalog(tmp_path)),
    ]  # fmt: skip
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        yield proc, emulator_dir, key
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _begin_when_served(kiosk: IssuanceClient, proc: subprocess.Popen[bytes]) -> KioskSession:
    """The first session, once the service answers (it generates the emulator keys at first start)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return kiosk.begin()
        except RpcTimeout:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            assert time.monotonic() < deadline


def test_served_process_issues_to_a_kiosk_and_stops_cleanly(
    served: tuple[subprocess.Popen[bytes], Path, Ed25519PrivateKey], mosquitto: MosquittoBroker
) -> None:
    """GIVEN the service started by its command WHEN a kiosk runs the steps THEN it gets a bound document; on
    SIGTERM the process exits 0."""
    proc, emulator_dir, key = served
    ca = JpkiTestCa(emulator_dir)  # same folder: same test CA and persona keys as the service
    rpc = RpcClient.connect("jp-999999-k70", BrokerConfig(url=mosquitto.url), retry_s=1.0)
    try:
        kiosk = IssuanceClient(rpc, key.public_key(), timeout_s=5)
        session = _begin_when_served(kiosk, proc)
        with emulated_card(ca, persona_by_name("valid-adult")) as card:
            kiosk.authenticate(session, card, Pin.from_digits("1234"))
        document = kiosk.issue(session, "juminhyo", payment_ref="PAY-SERVE")
        assert document.pdf().startswith(b"%PDF")
        assert kiosk.print_and_confirm(session, document, lambda pdf, n: None).state == "printed"
    finally:
        rpc.close()
    proc.terminate()
    assert proc.wait(15) == 0


def test_central_serve_alone_serves_issuance_and_payment_orders_and_alerts_incidents(
    tmp_path: Path, mosquitto: MosquittoBroker
) -> None:
    """GIVEN `kiosk-central serve` with an [issuance] section (one process, one RPC service) WHEN a kiosk
    pays the wrong amount THEN nothing is issued and the incident is an open alert on that kiosk in the
    fleet store (the dashboard's alerts); the right amount gets a bound document; payment.lookup is answered by the same
    service; SIGTERM stops it cleanly."""
    key = Ed25519PrivateKey.generate()
    (tmp_path / "sign.pem").write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    (tmp_path / "audit.key").write_text(base64.b64encode(os.urandom(32)).decode())
    config = tmp_path / "central.toml"
    config.write_text(
        f'[central]\ndata_dir = "data"\nstore_url = "sqlite:///data/central.db"\n'
        f'catalog_file = "{write_always_open_catalog(tmp_path)}"\n'
        f'[broker]\nurl = "{mosquitto.url}"\n[web]\nport = 0\n'
        '[issuance]\ndemo = true\nsigning_key = "sign.pem"\naudit_key = "audit.key"\nrender_processes = 1\n'
    )
    (tmp_path / "data").mkdir()
    emulator_dir = tmp_path / "emulator"
    env = {**os.environ, "MADOGUCHI_CARD_EMULATOR_DIR": str(emulator_dir)}
    central = str(Path(sys.executable).with_name("kiosk-central"))
    proc = subprocess.Popen(
        [central, "serve", "--config", str(config)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        device = "jp-999999-k71"
        rpc = RpcClient.connect(device, BrokerConfig(url=mosquitto.url), retry_s=1.0)
        try:
            kiosk = IssuanceClient(rpc, key.public_key(), timeout_s=5)
            session = _begin_when_served(kiosk, proc)
            with emulated_card(JpkiTestCa(emulator_dir), persona_by_name("valid-adult")) as card:
                kiosk.authenticate(session, card, Pin.from_digits("1234"))
            total = kiosk.prepare(session, "juminhyo").total_yen
            with pytest.raises(RpcCallError, match="paid 1 yen"):
                kiosk.issue(session, "juminhyo", payment_ref="PAY-LOW", amount_yen=1)
            document = kiosk.issue(session, "juminhyo", payment_ref="PAY-OK", amount_yen=total)
            assert document.pdf().startswith(b"%PDF")
            with pytest.raises(RpcCallError) as missing:
                rpc.call("payment.lookup", {"order_code": "000000"}, 5)
            assert missing.value.code.value in ("NOT_FOUND", "INVALID_ARGUMENT")
        finally:
            rpc.close()
        store = open_store(f"sqlite:///{tmp_path / 'data' / 'central.db'}", create=False)
        try:
            alerts = store.alerts(device_id=device)
        finally:
            store.close()
        assert [a.code for a in alerts] == ["incident_amount_mismatch"]
        assert "PAY-LOW" not in alerts[0].detail and "paid 1 yen" in alerts[0].detail
        proc.terminate()
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
