"""The production broker (mTLS + ACLs, contract §6) checked with independent clients.

`mosquitto_pub` / `mosquitto_sub` from mosquitto-clients; every check is on what is delivered,
never on SUBACK (the ACL file does not check SUBSCRIBE).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from central_broker.broker_fleet import FleetBroker, revoke_device
from central_broker.ingest import Ingest
from central_broker.pki.authority import Pki
from central_broker.store import FleetStore
from kiosk_app.agent import AgentOptions, FleetAgent, SimulatedDeviceHealth
from madoguchi.config.broker import BrokerConfig
from madoguchi.config.kiosk import simulated_kiosk_config
from tests.fixtures.central_store import wait_for_device
from tests.fixtures.fleet import new_device_id
from tests.fixtures.fleet_pki import Identity, device_identity, mosq_cmd, service_identity

pytestmark = pytest.mark.mosquitto

D = "kiosk/v1/d"


Probe = tuple[int, Identity, str]  # (port, publisher, topic) of a message the subscriber may receive


@contextmanager
def subscribed(
    port: int, who: Identity, *topics: str, wait: float = 1.0, probe: Probe | None = None
) -> Iterator[list[str]]:
    """Run `mosquitto_sub -v` for the block (+ `wait` s after it); the list fills with 'topic payload' lines.

    With `probe`, the block starts only once a probe message published there has reached the
    subscriber (so it is surely subscribed); probe lines are left out of the list. Without one (a
    client that may receive nothing at all), it starts after a short pause.
    """
    args: list[str] = []
    for topic in topics:
        args += ["-t", topic]
    argv = mosq_cmd("mosquitto_sub", port, who, "-v", "-q", "1", "-W", "60", *args)
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    received: list[str] = []
    assert process.stdout is not None
    reader = threading.Thread(
        target=lambda: received.extend(line.rstrip("\n") for line in process.stdout), daemon=True
    )  # type: ignore[union-attr]
    reader.start()
    lines: list[str] = []
    try:
        if probe is None:
            time.sleep(0.5)
        else:
            token = f"probe-{uuid.uuid4().hex[:8]}"
            deadline = time.monotonic() + 20
            while not any(token in line for line in received):
                assert time.monotonic() < deadline, f"{who.name} never received its probe on {probe[2]}"
                publish(probe[0], probe[1], probe[2], token)
                time.sleep(0.2)
        yield lines
        time.sleep(wait)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        reader.join(10)
        lines += [line for line in received if "probe-" not in line]


def publish(port: int, who: Identity | None, topic: str, payload: str = "x") -> int:
    """`mosquitto_pub` once; its exit status."""
    argv = mosq_cmd("mosquitto_pub", port, who, "-t", topic, "-m", payload, "-q", "1")
    return subprocess.run(argv, capture_output=True, timeout=10, check=False).returncode


def test_a_device_reads_only_its_own_down_topics(
    fleet_broker: FleetBroker, fleet_pki: Pki, tmp_path: Path
) -> None:
    """GIVEN kiosks A and B WHEN B subscribes to A's down and up topics and the centre and A publish
    there THEN B receives nothing while A receives its own command (the SUBACK says nothing)."""
    a, b = new_device_id(), new_device_id()
    ida, idb = device_identity(fleet_pki, a, tmp_path / "a"), device_identity(fleet_pki, b, tmp_path / "b")
    catalog = service_identity(fleet_pki, "svc-catalog")
    with (
        subscribed(
            fleet_broker.port,
            idb,
            f"{D}/{a}/down/#",
            f"{D}/{a}/up/#",
            f"{D}/+/down/#",
            probe=(fleet_broker.service_port, catalog, f"{D}/{b}/down/cmd"),
        ) as seen_by_b,
        subscribed(
            fleet_broker.port,
            ida,
            f"{D}/{a}/down/#",
            probe=(fleet_broker.service_port, catalog, f"{D}/{a}/down/cmd"),
        ) as seen_by_a,
    ):
        assert publish(fleet_broker.service_port, catalog, f"{D}/{a}/down/cmd", "for-a") == 0
        assert publish(fleet_broker.port, ida, f"{D}/{a}/up/event", "a-event") == 0
    assert seen_by_a == [f"{D}/{a}/down/cmd for-a"]
    assert seen_by_b == []


def test_a_device_cannot_publish_as_another_device_or_on_fleet_topics(
    fleet_broker: FleetBroker, fleet_pki: Pki, tmp_path: Path
) -> None:
    """GIVEN kiosk A and the ingest and catalog services listening WHEN A publishes on B's up and down
    topics and on fleet topics THEN nothing is delivered; A's own up/event is (control)."""
    a, b = new_device_id(), new_device_id()
    ida = device_identity(fleet_pki, a, tmp_path / "a")
    idb = device_identity(fleet_pki, b, tmp_path / "b")
    ingest = service_identity(fleet_pki, "svc-ingest")
    catalog = service_identity(fleet_pki, "svc-catalog")
    with (
        subscribed(
            fleet_broker.service_port,
            ingest,
            f"{D}/+/up/#",
            "kiosk/v1/fleet/host/state",
            probe=(fleet_broker.port, ida, f"{D}/{a}/up/event"),
        ) as ingest_saw,
        subscribed(
            fleet_broker.service_port,
            catalog,
            "kiosk/v1/fleet/#",
            probe=(fleet_broker.service_port, catalog, "kiosk/v1/fleet/catalog/probe"),
        ) as catalog_saw,
        subscribed(
            fleet_broker.port,
            idb,
            f"{D}/{b}/down/#",
            probe=(fleet_broker.service_port, catalog, f"{D}/{b}/down/cmd"),
        ) as b_saw,
    ):
        for topic in (f"{D}/{b}/up/state", f"{D}/{b}/up/stats", f"{D}/{b}/down/cmd", f"{D}/{b}/down/desired",
                      "kiosk/v1/fleet/control", "kiosk/v1/fleet/catalog/manifest", "kiosk/v1/fleet/keys",
                      "kiosk/v1/fleet/host/state"):  # fmt: skip
            publish(fleet_broker.port, ida, topic, "forged")
        assert publish(fleet_broker.port, ida, f"{D}/{a}/up/event", "own") == 0
    assert ingest_saw == [f"{D}/{a}/up/event own"]
    assert catalog_saw == [] and b_saw == []


def test_anonymous_plaintext_and_unknown_ca_clients_are_refused(
    fleet_broker: FleetBroker, fleet_pki: Pki, tmp_path: Path
) -> None:
    """GIVEN the fleet broker WHEN a client connects without a certificate, in plaintext, or with a
    certificate from another CA (same CN as a real kiosk), or a real device certificate on the service
    listener THEN the connection is refused and nothing it sends is delivered."""
    dev = new_device_id()
    real = device_identity(fleet_pki, dev, tmp_path / "real")
    other = Pki.init(tmp_path / "other-pki")
    forged = device_identity(other, dev, tmp_path / "forged")
    forged = Identity(
        dev, real.ca_file, forged.cert_file, forged.key_file
    )  # trusts our root, not signed by it
    no_cert = mosq_cmd("mosquitto_pub", fleet_broker.port, None, "--cafile", str(real.ca_file),
                       "-t", f"{D}/{dev}/up/event", "-m", "anon", "-q", "1")  # fmt: skip
    plaintext = mosq_cmd("mosquitto_pub", fleet_broker.port, None, "-t", f"{D}/{dev}/up/event", "-m", "p")
    ingest = service_identity(fleet_pki, "svc-ingest")
    with subscribed(
        fleet_broker.service_port,
        ingest,
        f"{D}/+/up/#",
        probe=(fleet_broker.port, real, f"{D}/{dev}/up/event"),
    ) as seen:
        assert subprocess.run(no_cert, capture_output=True, timeout=10, check=False).returncode != 0
        assert subprocess.run(plaintext, capture_output=True, timeout=10, check=False).returncode != 0
        assert publish(fleet_broker.port, forged, f"{D}/{dev}/up/event", "forged") != 0
        # A device certificate on the service listener: no CRL of the device CA there → refused.
        assert publish(fleet_broker.service_port, real, f"{D}/{dev}/up/event", "device-on-service") != 0
    assert seen == []
    log = fleet_broker.log_text()
    assert "certificate verify failed" in log or "peer did not return a certificate" in log


def test_revoked_device_is_cut_off_by_acl_reload_then_refused_after_restart(
    fleet_broker: FleetBroker, fleet_pki: Pki, tmp_path: Path
) -> None:
    """GIVEN a connected kiosk WHEN it is revoked as documented (ca revoke, deny block, SIGHUP) THEN
    what it publishes is no longer delivered and it no longer receives commands; WHEN the broker
    restarts (CRL read) THEN its TLS connection is refused, while another kiosk still works."""
    bad, good = new_device_id(), new_device_id()
    idbad = device_identity(fleet_pki, bad, tmp_path / "bad")
    idgood = device_identity(fleet_pki, good, tmp_path / "good")
    ingest = service_identity(fleet_pki, "svc-ingest")
    catalog = service_identity(fleet_pki, "svc-catalog")
    fleet_pki.revoke(bad, "key compromise")
    revoke_device(fleet_broker.workdir, bad, fleet_broker.files)
    fleet_broker.reload()
    time.sleep(0.3)
    with (
        subscribed(
            fleet_broker.service_port,
            ingest,
            f"{D}/+/up/#",
            probe=(fleet_broker.port, idgood, f"{D}/{good}/up/event"),
        ) as ingest_saw,
        subscribed(fleet_broker.port, idbad, f"{D}/{bad}/down/#") as bad_saw,
    ):
        publish(fleet_broker.port, idbad, f"{D}/{bad}/up/event", "after-revoke")
        publish(fleet_broker.service_port, catalog, f"{D}/{bad}/down/cmd", "cmd")
        assert publish(fleet_broker.port, idgood, f"{D}/{good}/up/event", "good") == 0
    assert ingest_saw == [f"{D}/{good}/up/event good"]
    assert bad_saw == []
    fleet_broker.restart()
    assert publish(fleet_broker.port, idbad, f"{D}/{bad}/up/event", "after-restart") != 0
    assert publish(fleet_broker.port, idgood, f"{D}/{good}/up/event", "good") == 0
    assert "certificate verify failed" in fleet_broker.log_text(current_run=True)


def test_kiosk_agent_and_ingest_work_over_mtls(
    fleet_broker: FleetBroker, fleet_pki: Pki, central_store: FleetStore, tmp_path: Path
) -> None:
    """GIVEN the fleet broker WHEN the ingest connects with its service certificate and a kiosk agent
    with its device certificate THEN the kiosk shows online and its statistics are stored and acked."""
    svc = service_identity(fleet_pki, "svc-ingest")
    ingest = Ingest(
        central_store,
        BrokerConfig(
            url=fleet_broker.service_url, ca_file=svc.ca_file, cert_file=svc.cert_file, key_file=svc.key_file
        ),
    )
    ingest.start()
    dev = new_device_id()
    ident = device_identity(fleet_pki, dev, tmp_path / "id")
    config = simulated_kiosk_config(
        tmp_path / "kiosk", fleet_broker.url, dev, ca_file=ident.ca_file, cert_file=ident.cert_file,
        key_file=ident.key_file,
    )  # fmt: skip
    options = AgentOptions(reconnect_min_s=0.2, tick_s=0.05, drain_start_delay=lambda: 0.0)
    agent = FleetAgent(config, SimulatedDeviceHealth(config), options=options)
    stop = threading.Event()
    runner = threading.Thread(target=agent.run, args=(stop,))
    try:
        assert ingest.subscribed.wait(10), fleet_broker.log_text()
        agent.start()
        runner.start()
        wait_for_device(central_store, dev, lambda r: r.status.value == "online", what="online over mTLS")
        for n in range(5):
            agent.emit_statistic("queue_ticket", category="tax", n=n)
        deadline = time.monotonic() + 10
        while agent.telemetry.outbox.depth() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert central_store.stats_seqs(dev) == [1, 2, 3, 4, 5]
        assert agent.telemetry.outbox.depth() == 0
    finally:
        stop.set()
        if runner.is_alive():
            runner.join()
        agent.stop()
        ingest.stop()


def test_broker_config_cli_writes_the_fleet_listeners_and_revoke_follows_the_pki(
    fleet_pki: Pki, tmp_path: Path
) -> None:
    """GIVEN a PKI WHEN the operator runs `broker config --pki` THEN mosquitto.conf has both mTLS
    listeners with the contract's settings and the ACL files exist; `broker revoke` refuses a device
    whose certificate is not revoked in the PKI and, once it is, writes its deny block first."""
    kc = str(Path(sys.executable).parent / "kiosk-central")
    out = tmp_path / "broker"
    result = subprocess.run([kc, "broker", "config", "--out", str(out), "--pki", str(fleet_pki.dir), "--json"],
                            capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["device_listener"] == 8883
    conf = (out / "mosquitto.conf").read_text().splitlines()
    for line in ("listener 8883", "listener 8884", "require_certificate true", "use_identity_as_username true",
                 "use_username_as_clientid true", "tls_version tlsv1.2", "allow_anonymous false",
                 "persistent_client_expiration 7d", "per_listener_settings true"):  # fmt: skip
        assert line in conf, line
    assert any(line.startswith("crlfile ") for line in conf)
    assert "pattern write kiosk/v1/d/%u/up/#" in (out / "acl-devices.conf").read_text()
    assert "user svc-ingest" in (out / "acl-services.conf").read_text()
    dev = new_device_id()
    device_identity(fleet_pki, dev, tmp_path / "dev")
    revoke = [kc, "broker", "revoke", dev, "--out", str(out), "--pki", str(fleet_pki.dir)]
    refused = subprocess.run(revoke, capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode != 0 and "ca revoke" in refused.stderr
    fleet_pki.revoke(dev)
    assert subprocess.run(revoke, capture_output=True, text=True, timeout=60, check=False).returncode == 0
    acl = (out / "acl-devices.conf").read_text()
    assert f"user {dev}\ntopic deny #" in acl and acl.index(dev) < acl.index("pattern write")
