"""Two Mosquitto nodes, hub and bridged edge (central_broker.broker_bridge): kiosks on either node reach
the one ingest on the hub, nothing lost or doubled, across a cut of the link between the nodes."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from central_broker.broker import LOOPBACK, BrokerError, MosquittoBroker, find_mosquitto
from central_broker.broker_bridge import (
    BRIDGE_USER,
    HubLink,
    add_bridge,
    allow_bridges,
    append_bridge,
    bridge_config,
    check_bridge,
)
from central_broker.broker_fleet import FleetBroker, FleetTlsFiles
from central_broker.ingest import Ingest
from central_broker.pki.authority import Pki
from central_broker.store import DeviceStatus, FleetStore
from kiosk_app.agent import FleetAgent, SimulatedDeviceHealth
from kiosk_app.runner.queue_lamps import QueueLamps
from madoguchi.config.broker import BrokerConfig
from madoguchi.config.kiosk import simulated_kiosk_config
from madoguchi.contracts.queue import CategoryLamp, Congestion, CongestionView
from madoguchi.contracts.topics import Down, down
from tests.fixtures.central_store import wait_for_device
from tests.fixtures.fleet import KioskProcess, new_device_id, running_agent, wait_for
from tests.fixtures.mosquitto import mqtt_publish
from tests.fixtures.tcp_link import TcpLink
from tests.test_fleet_stats import _emit
from tests.test_fleet_stats import running_agent as agent_on

pytestmark = pytest.mark.mosquitto


@dataclass(frozen=True)
class Nodes:
    """The hub (central services connect here), the link to it, and an edge bridged through the link."""

    hub: MosquittoBroker
    link: TcpLink
    edge: MosquittoBroker


def _started(broker: MosquittoBroker) -> MosquittoBroker:
    try:
        broker.start()
    except BrokerError as exc:  # the message carries the broker's stderr
        pytest.fail(f"could not start Mosquitto: {exc}", pytrace=False)
    return broker


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[Nodes]:
    """Hub and edge on loopback ports; the edge's bridge reaches the hub through a `TcpLink`."""
    if find_mosquitto() is None:
        pytest.skip("mosquitto is not installed (scripts/bootstrap.sh installs it)")
    hub = MosquittoBroker(tmp_path / "hub", extra_config=("max_queued_messages 100000",))
    with ExitStack() as stack:
        stack.callback(_started(hub).stop)
        link = stack.enter_context(contextlib.closing(TcpLink(hub.port)))
        bridge = HubLink("edge-b", LOOPBACK, link.port, restart_timeout=(1, 1), keepalive_s=5)
        edge = MosquittoBroker(tmp_path / "edge", extra_config=bridge_config(bridge))
        stack.callback(_started(edge).stop)
        wait_for(lambda: "madoguchi-bridge-edge-b" in hub.log_text(), "the edge's bridge on the hub")
        yield Nodes(hub, link, edge)


def test_kiosks_on_both_nodes_reach_one_ingest_exactly_once_across_a_bridge_outage(
    nodes: Nodes,
    ingest_for: Callable[[MosquittoBroker], Ingest],
    central_store: FleetStore,
    tmp_path: Path,
) -> None:
    """GIVEN one kiosk on the hub and two on the edge, the ingest on the hub only WHEN each journals 150
    records, the link between the nodes is cut, each journals 100 more and the link comes back (sooner
    than the kiosks' 60 s resend) THEN
    during the cut the hub's kiosk drains and the edge's kiosks hold their records, and afterwards the
    store holds seq 1..250 of every kiosk exactly once and every outbox is empty."""
    ingest_for(nodes.hub)
    on_hub, *on_edge = devices = [new_device_id() for _ in range(3)]
    with ExitStack() as stack:
        agents = {
            on_hub: stack.enter_context(
                agent_on(nodes.hub, tmp_path / on_hub, on_hub, min_batch_interval_s=0.1)
            )
        }
        for dev in on_edge:
            agents[dev] = stack.enter_context(
                agent_on(nodes.edge, tmp_path / dev, dev, min_batch_interval_s=0.1)
            )
        wait_for(lambda: all(a.telemetry.sender.draining for a in agents.values()), "the ingest online")
        for agent in agents.values():
            _emit(agent, 150)
        # Cut with nothing in flight, so the 100 records go out only while the link is down: the edge
        # holds them in the bridge's session (a batch in flight at the cut: docs/fleet-link.md, limits).
        wait_for(lambda: all(a.telemetry.outbox.depth() == 0 for a in agents.values()), "150 of each", 15)
        nodes.link.cut()
        for agent in agents.values():
            _emit(agent, 100)
        wait_for(lambda: agents[on_hub].telemetry.outbox.depth() == 0, "the hub's kiosk to drain", 15)
        time.sleep(1.0)
        assert all(agents[dev].telemetry.outbox.depth() > 0 for dev in on_edge), (
            "edge kiosks drained while cut"
        )

        nodes.link.restore()
        wait_for(
            lambda: all(a.telemetry.outbox.depth() == 0 for a in agents.values()), "every outbox to drain", 20
        )
    for dev in devices:
        assert central_store.stats_seqs(dev) == list(range(1, 251)), dev
        assert central_store.stats_through(dev) == 250


def test_edge_kiosk_gets_retained_down_documents_and_its_presence_reaches_the_central(
    nodes: Nodes,
    ingest_for: Callable[[MosquittoBroker], Ingest],
    central_store: FleetStore,
    kiosk_process: Callable[..., KioskProcess],
    tmp_path: Path,
) -> None:
    """GIVEN queue lamps retained on the hub for a kiosk not yet connected WHEN the kiosk starts on the
    edge THEN it shows them, and a newer view published at the hub reaches it live; the central sees
    an edge kiosk's birth (online) and, when its process is SIGKILLed, its will (offline, lwt)."""
    ingest_for(nodes.hub)
    dev = new_device_id()
    topic = down(dev, Down.QUEUE)
    lamp = CategoryLamp(
        category="juminhyo", level=Congestion.BUSY, waiting=12, wait_min_minutes=20, wait_max_minutes=30
    )
    first = CongestionView(branch="honcho", at=1_000, categories=[lamp])
    mqtt_publish(nodes.hub, topic, first.to_bytes(), retain=True)
    lamps = QueueLamps(dev)
    config = simulated_kiosk_config(tmp_path / dev, nodes.edge.url, dev)
    agent = FleetAgent(config, SimulatedDeviceHealth(config), clock_is_synced=lambda: True)
    agent.add_downlink(lamps.handle)
    with running_agent(agent):
        wait_for(lambda: lamps.view == first, "the retained lamps on the edge kiosk")
        second = CongestionView(branch="honcho", at=2_000, categories=[])
        mqtt_publish(nodes.hub, topic, second.to_bytes(), retain=True)
        wait_for(lambda: lamps.view == second, "the newer lamps on the edge kiosk")

    other = new_device_id()
    kiosk = kiosk_process(nodes.edge, other)
    wait_for_device(
        central_store, other, lambda r: r.status is DeviceStatus.ONLINE, timeout=15, what="online"
    )
    kiosk.kill()
    record = wait_for_device(
        central_store, other, lambda r: r.status is DeviceStatus.OFFLINE, timeout=15, what="offline"
    )
    assert record.offline_reason == "lwt"


class HubBroker(FleetBroker):
    """The fleet broker (mTLS, ACLs) that also lets edge bridges in on its service listener."""

    def write_config(self) -> Path:
        """The fleet configuration plus the `svc-bridge` ACL block."""
        path = super().write_config()
        allow_bridges(self.workdir)
        return path


class EdgeBroker(MosquittoBroker):
    """A loopback broker for kiosks, bridged as `edge-t` to the hub over mTLS (`add_bridge`)."""

    def __init__(self, workdir: Path, hub: str, pki_dir: Path) -> None:
        super().__init__(workdir, extra_config=("user root",))  # pytest folders are 0700
        self._hub, self._pki_dir = hub, pki_dir

    def write_config(self) -> Path:
        """The development listener plus the bridge."""
        super().write_config()
        add_bridge(self.workdir, self._hub, "edge-t", self._pki_dir)
        return self.config_path


def test_edge_bridges_to_the_fleet_hub_over_mutual_tls(central_store: FleetStore, tmp_path: Path) -> None:
    """GIVEN the production hub (mTLS + ACLs) with the ingest on its service listener, and an edge whose
    bridge logs in there with a `svc-bridge` service certificate WHEN a kiosk on the edge journals 120
    records THEN all arrive once and its outbox empties (down/ack and host state crossed back)."""
    if find_mosquitto() is None:
        pytest.skip("mosquitto is not installed (scripts/bootstrap.sh installs it)")
    pki = Pki.init(tmp_path / "pki")
    pki.issue_service("broker", hosts=["127.0.0.1", "localhost"])
    for name in ("svc-ingest", BRIDGE_USER):
        pki.issue_service(name)
    root, services = pki.dir / "root" / "root.pem", pki.dir / "services"
    hub = HubBroker(tmp_path / "hub", FleetTlsFiles.from_pki(pki.dir))
    edge = EdgeBroker(tmp_path / "edge", f"127.0.0.1:{hub.service_port}", pki.dir)
    ingest_broker = BrokerConfig(
        url=hub.service_url, ca_file=root,
        cert_file=services / "svc-ingest" / "chain.pem", key_file=services / "svc-ingest" / "key.pem",
    )  # fmt: skip
    ingest = Ingest(central_store, ingest_broker, group="bridge-tls")
    dev = new_device_id()
    with ExitStack() as stack:
        for part in (hub, edge):
            part.start()
            stack.callback(part.stop)
        ingest.start()
        stack.callback(ingest.stop)
        agent = stack.enter_context(agent_on(edge, tmp_path / dev, dev))
        wait_for(
            lambda: agent.telemetry.sender.draining,
            f"the ingest online on the edge:\n{edge.log_text()[-1500:]}",
        )
        _emit(agent, 120)
        wait_for(lambda: agent.telemetry.outbox.depth() == 0, "the outbox to drain", 15)
    assert central_store.stats_seqs(dev) == list(range(1, 121))
    assert "as madoguchi-bridge-edge-t (p5, c0, k30, u'svc-bridge')" in hub.log_text()


def _central(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "kiosk-central"), *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_broker_config_writes_an_edge_bridge_and_refuses_bad_bridges(tmp_path: Path) -> None:
    """GIVEN `kiosk-central broker config` WHEN asked for an edge bridged to a hub on loopback THEN the
    config carries the contract's topic patterns in the right directions, MQTT 5, persistent sessions;
    WHEN the name is bad, the address lacks a port, a plaintext hub is off loopback, or --bridge-name
    is missing THEN it refuses with what to do and writes nothing."""
    edge = tmp_path / "edge"
    done = _central("broker", "config", "--out", str(edge), "--port", "1884",
                    "--bridge-to", "127.0.0.1:1883", "--bridge-name", "edge-b", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["bridge"] == {"name": "edge-b", "hub": "127.0.0.1:1883", "tls": False}
    lines = (edge / "mosquitto.conf").read_text(encoding="utf-8").splitlines()
    for line in ("connection edge-b", "address 127.0.0.1:1883", "remote_clientid madoguchi-bridge-edge-b",
                 "bridge_protocol_version mqttv50", "cleansession false", "local_cleansession false",
                 "topic kiosk/v1/d/+/up/# out 1", "topic kiosk/v1/d/+/down/# in 1",
                 "topic kiosk/v1/fleet/# in 1"):  # fmt: skip
        assert line in lines
    for args, reason in (
        (("--bridge-to", "hub.example:8884", "--bridge-name", "edge-b"), "unencrypted"),
        (("--bridge-to", "127.0.0.1:1883"), "go together"),
    ):
        out = tmp_path / reason
        done = _central("broker", "config", "--out", str(out), *args)
        assert done.returncode != 0 and reason in done.stderr and "fix:" in done.stderr, done.stderr
        assert not out.exists()
    for hub, name, reason in (("127.0.0.1:1883", "Edge B", "bridge name"), ("127.0.0.1", "edge-b", "HOST:PORT"),
                              ("127.0.0.1:70000", "edge-b", "HOST:PORT")):  # fmt: skip
        with pytest.raises(BrokerError, match=reason):
            check_bridge(hub, name, tls=False)
    with pytest.raises(BrokerError, match="already bridges"):
        append_bridge(edge / "mosquitto.conf", HubLink("edge-b", LOOPBACK, 1883))
