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
from device_drivers.card.emulator.material import JpkiTestCa
from device_drivers.card.emulator.personas import persona_by_name
from device_drivers.card.pin import Pin
from kiosk_app.issuance_client import IssuanceClient
from kiosk_app.rpc_client import RpcClient, RpcTimeout
from madoguchi.config.broker import BrokerConfig
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
        deadline = time.monotonic() + 60
        while True:  # the service generates the emulator keys at first start
            try:
                session = kiosk.begin()
                break
            except RpcTimeout:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
                assert time.monotonic() < deadline
        with emulated_card(ca, persona_by_name("valid-adult")) as card:
            kiosk.authenticate(session, card, Pin.from_digits("1234"))
        document = kiosk.issue(session, "juminhyo", payment_ref="PAY-SERVE")
        assert document.pdf().startswith(b"%PDF")
        assert kiosk.print_and_confirm(session, document, lambda pdf, n: None).state == "printed"
    finally:
        rpc.close()
    proc.terminate()
    assert proc.wait(15) == 0
