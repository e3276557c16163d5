"""The fleet broker's optional loopback listener: anonymous and read-only (contract §6, issue 21 item 6).

Checked with `mosquitto_pub` / `mosquitto_sub` on what is delivered: an anonymous local process can
watch `kiosk/v1/#` but cannot forge fleet documents or write a kiosk's down topics.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from central_broker.broker import BrokerError, find_mosquitto
from central_broker.broker_fleet import FleetBroker, FleetTlsFiles
from central_broker.pki.authority import Pki
from tests.fixtures.fleet import new_device_id
from tests.fixtures.fleet_pki import Identity, device_identity, mosq_cmd, service_identity

D = "kiosk/v1/d"


@pytest.fixture
def loopback_broker(fleet_pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FleetBroker]:
    """The fleet broker with the loopback listener on (development set-up)."""
    if find_mosquitto() is None:
        pytest.skip("mosquitto is not installed (scripts/bootstrap.sh installs it)")
    broker = FleetBroker(
        tmp_path_factory.mktemp("loopback-broker"), FleetTlsFiles.from_pki(fleet_pki.dir), loopback=True
    )
    try:
        broker.start()
    except BrokerError as exc:
        pytest.fail(f"could not start the fleet broker: {exc}", pytrace=False)
    yield broker
    broker.stop()


class Subscriber:
    """`mosquitto_sub -v` in the background; `lines` fills with 'topic payload'."""

    def __init__(self, port: int, who: Identity | None, *topics: str) -> None:
        args = [arg for topic in topics for arg in ("-t", topic)]
        argv = mosq_cmd("mosquitto_sub", port, who, "-v", "-q", "1", "-W", "60", *args)
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        stdout = self.process.stdout
        assert stdout is not None
        self._reader = threading.Thread(target=lambda: self.lines.extend(x.rstrip("\n") for x in stdout))
        self._reader.start()

    def wait_for(self, token: str, publish_again: list[str] | None = None, timeout: float = 20) -> None:
        """Until a line with `token` arrived (re-running the `publish_again` argv meanwhile)."""
        deadline = time.monotonic() + timeout
        while not any(token in line for line in self.lines):
            assert time.monotonic() < deadline, f"{token} never arrived; got {self.lines}"
            if publish_again is not None:
                subprocess.run(publish_again, capture_output=True, timeout=10, check=False)
            time.sleep(0.2)

    def stop(self) -> list[str]:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self._reader.join(10)
        return self.lines


def _pub(port: int, who: Identity | None, topic: str, payload: str, *extra: str) -> list[str]:
    return mosq_cmd("mosquitto_pub", port, who, "-t", topic, "-m", payload, "-q", "1", *extra)


@pytest.mark.mosquitto
def test_anonymous_loopback_clients_can_watch_but_not_forge_fleet_documents(
    loopback_broker: FleetBroker, fleet_pki: Pki, tmp_path: Path
) -> None:
    """GIVEN the fleet broker with its loopback listener, a kiosk subscribed to its down topics and
    fleet/control, and an anonymous loopback subscriber WHEN an anonymous loopback client publishes a
    forged fleet/control and down/desired (retained too) THEN neither the kiosk nor anyone receives
    them, while the catalog service's real document reaches both (the loopback reads)."""
    port = loopback_broker.loopback_port
    assert port is not None
    dev = new_device_id()
    kiosk = device_identity(fleet_pki, dev, tmp_path / "kiosk")
    catalog = service_identity(fleet_pki, "svc-catalog")
    kiosk_sub = Subscriber(loopback_broker.port, kiosk, f"{D}/{dev}/down/#", "kiosk/v1/fleet/control")
    watcher = Subscriber(port, None, "kiosk/v1/#")
    try:
        token = f"real-{uuid.uuid4().hex[:8]}"
        real = _pub(loopback_broker.service_port, catalog, f"{D}/{dev}/down/cmd", token)
        kiosk_sub.wait_for(token, publish_again=real)
        watcher.wait_for(token, publish_again=real)
        for topic in ("kiosk/v1/fleet/control", f"{D}/{dev}/down/desired", f"{D}/{dev}/down/cmd"):
            subprocess.run(_pub(port, None, topic, "forged"), capture_output=True, timeout=10, check=False)
            subprocess.run(_pub(port, None, topic, "forged-retained", "-r"), capture_output=True, timeout=10,
                           check=False)  # fmt: skip
        # Impersonating the kiosk: its up topics are not writable from the loopback either.
        subprocess.run(_pub(port, None, f"{D}/{dev}/up/state", "forged"), capture_output=True, timeout=10,
                       check=False)  # fmt: skip
        done = f"after-{uuid.uuid4().hex[:8]}"
        after = _pub(loopback_broker.service_port, catalog, f"{D}/{dev}/down/cmd", done)
        kiosk_sub.wait_for(done, publish_again=after)
        watcher.wait_for(done, publish_again=after)
    finally:
        seen_by_kiosk = kiosk_sub.stop()
        seen_by_watcher = watcher.stop()
    assert not [line for line in seen_by_kiosk if "forged" in line], seen_by_kiosk
    assert not [line for line in seen_by_watcher if "forged" in line], seen_by_watcher
    # A later subscriber gets no forged retained document either.
    late = subprocess.run(
        mosq_cmd("mosquitto_sub", loopback_broker.port, kiosk, "-v", "-t", f"{D}/{dev}/down/#",
                 "-t", "kiosk/v1/fleet/control", "-W", "2"),
        capture_output=True, text=True, timeout=20, check=False,
    )  # fmt: skip
    assert "forged" not in late.stdout


def test_broker_config_writes_the_loopback_listener_only_on_request_and_read_only(
    fleet_pki: Pki, tmp_path: Path
) -> None:
    """GIVEN a PKI WHEN `broker config --pki` runs without --loopback-port THEN no plaintext listener is
    written; WITH it THEN the listener is on 127.0.0.1 and its ACL only reads kiosk/v1/#."""
    kc = str(Path(sys.executable).parent / "kiosk-central")
    plain = subprocess.run([kc, "broker", "config", "--out", str(tmp_path / "a"), "--pki", str(fleet_pki.dir),
                            "--json"], capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert plain.returncode == 0, plain.stderr
    assert json.loads(plain.stdout)["loopback_listener"] is None
    assert "allow_anonymous true" not in (tmp_path / "a" / "mosquitto.conf").read_text()
    assert not (tmp_path / "a" / "acl-loopback.conf").exists()
    out = tmp_path / "b"
    dev = subprocess.run([kc, "broker", "config", "--out", str(out), "--pki", str(fleet_pki.dir),
                          "--loopback-port", "18830"], capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert dev.returncode == 0, dev.stderr
    assert "listener 18830 127.0.0.1" in (out / "mosquitto.conf").read_text()
    grants = [
        line for line in (out / "acl-loopback.conf").read_text().splitlines() if not line.startswith("#")
    ]
    assert grants == ["topic read kiosk/v1/#"]
