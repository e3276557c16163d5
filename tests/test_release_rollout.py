"""App releases rolled out through `down/desired`, end to end: the production broker (mutual TLS + ACL),
the ingest, `kiosk-central enrol-serve` serving bundles to device certificates, in-process kiosk agents
with their own certificates, and the real installer (`kiosk update apply-pending`, venv, switch, health
gate) restarting a throwaway app from `releases/current`."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text

from central_broker.accounts import Role
from central_broker.broker_fleet import FleetBroker
from central_broker.catalog_push import SigningKeys, build_release, publish_documents, publish_release
from central_broker.catalog_push.publisher import Outgoing
from central_broker.ingest import Ingest
from central_broker.pki.authority import Pki
from central_broker.releases import ReleaseFiles, ReleaseRollout
from central_broker.releases.rollout import parse_duration, release_exceptions
from central_broker.rollout import RolloutError
from central_broker.store import FleetStore, open_store, sqlite_url
from central_broker.web import WebContext
from kiosk_app.agent import AgentOptions, FleetAgent, SimulatedDeviceHealth
from kiosk_app.agent.fleet_services import FleetServices, attach_fleet_services, root_keys_dir
from madoguchi.clock import SteppableClock
from madoguchi.config.broker import BrokerConfig
from madoguchi.config.kiosk import UpdatesConfig, simulated_kiosk_config
from madoguchi.contracts.messages import StateMessage
from madoguchi.contracts.signed import DesiredDocument, PayloadType, ReleaseRef, sign
from madoguchi.contracts.topics import FLEET_KEYS, Down, down
from madoguchi.errors import UserError
from provisioning.updates import ReadinessFile, build_bundle, sign_bundle
from provisioning.updates.keys import generate_key, load_private_key, load_public_keys
from provisioning.updates.targets import TargetPlatform
from tests.fixtures.fleet import new_device_id, running_agent, wait_for
from tests.fixtures.fleet_pki import device_identity, service_identity
from tests.fixtures.fleet_signing import catalog_body
from tests.fixtures.web import make_user, signed_in
from tests.provisioning_cli import command, wait_listening
from tests.release_wheels import make_wheel

pytestmark = pytest.mark.mosquitto


@dataclass(frozen=True)
class Endpoint:
    """`kiosk-central enrol-serve` with the central's data folder (bundles in `releases/`)."""

    url: str
    data: Path


@pytest.fixture(scope="module")
def endpoint(fleet_pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    name = "enrol-releases"
    if not (fleet_pki.dir / "services" / name).is_dir():
        fleet_pki.issue_service(name, hosts=["127.0.0.1"])
    data = tmp_path_factory.mktemp("central-data")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    proc = subprocess.Popen(
        [*command("kiosk-central"), "enrol-serve", "--port", str(port), "--pki-dir", str(fleet_pki.dir),
         "--data-dir", str(data), "--cert-name", name],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_listening(proc, port, "enrol-serve")
        yield Endpoint(f"https://127.0.0.1:{port}", data)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()


@pytest.fixture(scope="module")
def release_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The release-signing key; its `.pub` is what the kiosk image trusts."""
    path = tmp_path_factory.mktemp("release-key") / "release.key"
    generate_key(path)
    return path


def make_bundle(folder: Path, version: str, key: Ed25519PrivateKey, healthy: bool = True) -> Path:
    """A signed bundle of the throwaway app; a broken one comes up but never heartbeats."""
    wheels = folder / f"wheels-{version}"
    make_wheel(wheels, version, healthy)
    out = folder / f"release-{version}.tar"
    build_bundle(wheels, version, out, app="kioskfake")
    sign_bundle(out, key)
    return out


@dataclass
class Kiosk:
    device_id: str
    data: Path
    ready: Path
    agent: FleetAgent
    services: FleetServices

    @property
    def releases(self) -> Path:
        return self.data / "releases"

    def running(self) -> str:
        """The version the throwaway app last reported ready."""
        record = ReadinessFile(self.ready).read()
        return str(record["version"]) if record else ""

    def history(self, version: str) -> list[dict[str, object]]:
        return [e for e in self.services.releases.manager.status().history if e.get("version") == version]


@contextmanager
def kiosk_agent(
    broker: FleetBroker,
    pki: Pki,
    keys: SigningKeys,
    release_pub: Path,
    folder: Path,
    idle: Callable[[], bool],
) -> Iterator[Kiosk]:
    """A kiosk agent with its own device certificate, trusting the fleet root and the release key, whose
    installer is the real `kiosk update apply-pending` (restart = start the app from `releases/current`)."""
    device_id = new_device_id()
    identity = device_identity(pki, device_id, folder / "identity")
    data = folder / "data"
    root_keys_dir(data).mkdir(parents=True)
    root_keys_dir(data).joinpath("root.pub").write_bytes(keys.root_public.read_bytes())
    ready = folder / "run" / "ready.json"
    ready.parent.mkdir(parents=True)
    python = data / "releases" / "current" / "venv" / "bin" / "python"
    installer = command(
        "kiosk", "update", "apply-pending", "--data-dir", str(data), "--keys", str(release_pub),
        "--ready-file", str(ready), "--restart-cmd", f"{python} -m kioskfake {ready}", "--timeout", "4",
    )  # fmt: skip
    config = simulated_kiosk_config(
        data, broker.url, device_id, ca_file=identity.ca_file, cert_file=identity.cert_file, key_file=identity.key_file
    ).model_copy(
        update={"updates": UpdatesConfig(releases_dir=data / "releases", release_keys=release_pub, apply_command=installer, retry_s=5)}
    )  # fmt: skip
    options = AgentOptions(reconnect_min_s=0.2, tick_s=0.05, drain_start_delay=lambda: 0.0)
    agent = FleetAgent(config, SimulatedDeviceHealth(config), options=options)
    services = attach_fleet_services(agent, idle=idle, clock_is_synced=lambda: True)
    try:
        with running_agent(agent):
            wait_for(agent.connected.is_set, f"{device_id} connected over mTLS")
            yield Kiosk(device_id, data, ready, agent, services)
    finally:
        services.releases.wait_idle()


def service_broker(broker: FleetBroker, pki: Pki, name: str) -> BrokerConfig:
    ident = service_identity(pki, name)
    return BrokerConfig(
        url=broker.service_url, ca_file=ident.ca_file, cert_file=ident.cert_file, key_file=ident.key_file
    )


def statuses(store: FleetStore, device_id: str, version: str) -> list[str]:
    return [a.status for a in store.acks(device_id, f"release-{version}")]


@pytest.fixture
def fleet(
    fleet_broker: FleetBroker, fleet_pki: Pki, central_store: FleetStore, signing_keys: SigningKeys
) -> Iterator[None]:
    """The ingest on the service listener, so births and acks reach the central store."""
    ingest = Ingest(central_store, service_broker(fleet_broker, fleet_pki, "svc-ingest"))
    ingest.start()
    assert ingest.subscribed.wait(10), fleet_broker.log_text()
    try:
        yield
    finally:
        ingest.stop()


@pytest.mark.usefixtures("fleet")
def test_release_rolls_out_stage_by_stage_and_a_failing_one_rolls_back_and_halts(
    fleet_broker: FleetBroker,
    fleet_pki: Pki,
    central_store: FleetStore,
    signing_keys: SigningKeys,
    endpoint: Endpoint,
    release_key: Path,
    tmp_path: Path,
    web_context: WebContext,
    web_client: TestClient,
) -> None:
    """GIVEN two kiosks running catalog v61 WHEN release 9.0.0 is rolled out THEN only the test kiosk gets it
    first (downloaded over mTLS, verified, installed after its resident, health-gated), the other after
    `advance`, and both keep their catalog. WHEN broken release 9.0.1 follows THEN the test kiosk rolls back
    to 9.0.0 and says so, the rollout halts by itself, and the second kiosk is never offered 9.0.1."""
    catalog_broker = service_broker(fleet_broker, fleet_pki, "svc-catalog")
    private = load_private_key(release_key)
    serving = threading.Event()  # the test kiosk is busy with a resident until this is set
    with ExitStack() as stack:
        first = stack.enter_context(kiosk_agent(fleet_broker, fleet_pki, signing_keys, release_key.with_suffix(".pub"),
                                                tmp_path / "k1", idle=serving.is_set))  # fmt: skip
        second = stack.enter_context(kiosk_agent(fleet_broker, fleet_pki, signing_keys, release_key.with_suffix(".pub"),
                                                 tmp_path / "k2", idle=lambda: True))  # fmt: skip
        kiosks = [first, second]
        serving.set()
        publish_release(catalog_broker, signing_keys, build_release(catalog_body(61), signing_keys.catalog_key()),
                        [k.device_id for k in kiosks], central_store)  # fmt: skip
        for kiosk in kiosks:
            wait_for(lambda k=kiosk: k.services.catalogs.version() == 61, "catalog v61 applied")
        serving.clear()

        rollout = ReleaseRollout(
            central_store, catalog_broker, signing_keys, ReleaseFiles(endpoint.data / "releases")
        )
        status = rollout.start(
            make_bundle(tmp_path, "9.0.0", private), load_public_keys(release_key.with_suffix(".pub")), endpoint.url,
            [k.device_id for k in kiosks], test_device=first.device_id, percents=(100,),
        )  # fmt: skip
        assert [s.targets for s in status.stages] == [1, 1]
        wait_for(
            lambda: "WAITING_IDLE" in statuses(central_store, first.device_id, "9.0.0"), "verified, waiting"
        )
        assert first.running() == "" and not (first.releases / "current").exists()
        with pytest.raises(RolloutError, match="still has 1 of 1 kiosks pending"):
            rollout.advance()
        serving.set()  # the resident leaves
        wait_for(
            lambda: "APPLIED" in statuses(central_store, first.device_id, "9.0.0"),
            "9.0.0 applied",
            timeout=60,
        )
        assert first.running() == "9.0.0"
        assert statuses(central_store, first.device_id, "9.0.0") == [
            "QUEUED",
            "DOWNLOADING",
            "VERIFIED",
            "WAITING_IDLE",
            "INSTALLING",
            "APPLIED",
        ]
        assert statuses(central_store, second.device_id, "9.0.0") == [] and second.running() == ""
        wait_for(lambda: rollout.status().stages[0].current == 1, "stage 0 current")

        assert rollout.advance().stage == 1
        wait_for(
            lambda: "APPLIED" in statuses(central_store, second.device_id, "9.0.0"),
            "9.0.0 on the second",
            timeout=60,
        )
        assert second.running() == "9.0.0"
        assert rollout.advance().state == "done"
        assert all(k.services.catalogs.version() == 61 for k in kiosks), (
            "a release must not disturb the catalog"
        )

        status = rollout.start(
            make_bundle(tmp_path, "9.0.1", private, healthy=False), load_public_keys(release_key.with_suffix(".pub")),
            endpoint.url, [k.device_id for k in kiosks], test_device=first.device_id, percents=(100,),
        )  # fmt: skip
        wait_for(
            lambda: "ROLLED_BACK" in statuses(central_store, first.device_id, "9.0.1"),
            "9.0.1 rolled back",
            timeout=60,
        )
        assert first.running() == "9.0.0", "the previous release runs again"
        assert first.services.releases.manager.status().current == "9.0.0"
        rolled = next(
            a for a in central_store.acks(first.device_id, "release-9.0.1") if a.status == "ROLLED_BACK"
        )
        assert "rolled back to 9.0.0" in rolled.detail
        wait_for(
            lambda: (
                [
                    a.code
                    for a in central_store.alerts(device_id=first.device_id)
                    if a.alert_id == "app-update"
                ]
                == ["release_rolled_back"]
            ),
            "the operators' alert",
        )
        status = rollout.status()
        assert status.state == "halted" and "auto-halt" in status.reason and status.stages[0].failed == 1
        with pytest.raises(RolloutError, match="halted"):
            rollout.advance()
        assert statuses(central_store, second.device_id, "9.0.1") == [] and second.running() == "9.0.0"

        # The retained document still names 9.0.1 for the test kiosk: it is not tried a second time.
        ref = central_store.release_desired()[first.device_id][0]
        assert ref.version == "9.0.1"
        first.services.releases.on_release(ref)
        first.services.releases.wait_idle()
        assert len(first.history("9.0.1")) == 1 and not (first.releases / "pending.json").exists()

    signed_in(web_client, *make_user(web_context, Role.OPERATOR))
    page = web_client.get("/catalog").text
    assert "app release 9.0.1" in page and "auto-halt: 1 of 1 kiosks" in page
    staged = page[page.index('<table id="release-staged"') :]
    assert (
        '<tr data-stage="0"><td>test kiosk</td><td>yes</td><td class="num">1</td><td class="num">0</td><td class="num">1</td>'
        in staged
    )
    failures = page[page.index('<table id="release-failures"') :]
    failures = failures[: failures.index("</table>")]
    assert first.device_id in failures and "rolled back" in failures and second.device_id not in failures

    status_out = subprocess.run(
        command("kiosk", "update", "status", "--data-dir", str(first.data), "--json"),
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    shown = json.loads(status_out.stdout)
    assert shown["current"] == "9.0.0" and shown["highest"] == "9.0.0"
    assert shown["fleet_update"]["version"] == "9.0.1" and shown["fleet_update"]["status"] == "ROLLED_BACK"


@pytest.mark.usefixtures("fleet")
def test_a_release_pip_cannot_install_is_reported_failed_alerted_and_halts_the_stage(
    fleet_broker: FleetBroker,
    fleet_pki: Pki,
    central_store: FleetStore,
    signing_keys: SigningKeys,
    endpoint: Endpoint,
    release_key: Path,
    tmp_path: Path,
    web_context: WebContext,
    web_client: TestClient,
) -> None:
    """GIVEN a signed bundle whose app needs a distribution the bundle lacks WHEN it is rolled out THEN the
    test kiosk's real installer (pip) fails, the kiosk acks FAILED with pip's reason and raises the
    `release_failed` alert, the stage counts it failed and halts, the second kiosk is never offered it, and
    the fleet page lists the kiosk with the reason. (A bundle the kiosks cannot install by its tags never
    gets this far: `rollout start` refuses it.)"""
    catalog_broker = service_broker(fleet_broker, fleet_pki, "svc-catalog")
    private = load_private_key(release_key)
    trusted = load_public_keys(release_key.with_suffix(".pub"))
    rollout = ReleaseRollout(
        central_store, catalog_broker, signing_keys, ReleaseFiles(endpoint.data / "releases")
    )
    x86 = tmp_path / "x86"
    make_wheel(x86, "9.5.0")
    make_wheel(x86, "1.0.0", name="fastcore", tag="cp313-cp313-manylinux_2_17_x86_64")
    wrong = tmp_path / "x86.tar"
    build_bundle(
        x86, "9.5.0", wrong, app="kioskfake", target=TargetPlatform(platform="manylinux_2_28_x86_64")
    )
    sign_bundle(wrong, private)
    with pytest.raises(
        UserError, match=r"fastcore-1\.0\.0-cp313-cp313-manylinux_2_17_x86_64\.whl cannot install"
    ):
        rollout.start(wrong, trusted, endpoint.url, ["jp-999999-k01"])

    wheels = tmp_path / "wheels"
    make_wheel(wheels, "9.5.0", requires=("kioskfake-printing>=2",))
    bundle = tmp_path / "release-9.5.0.tar"
    build_bundle(wheels, "9.5.0", bundle, app="kioskfake")
    sign_bundle(bundle, private)
    with ExitStack() as stack:
        first = stack.enter_context(kiosk_agent(fleet_broker, fleet_pki, signing_keys, release_key.with_suffix(".pub"),
                                                tmp_path / "k1", idle=lambda: True))  # fmt: skip
        second = stack.enter_context(kiosk_agent(fleet_broker, fleet_pki, signing_keys, release_key.with_suffix(".pub"),
                                                 tmp_path / "k2", idle=lambda: True))  # fmt: skip
        rollout.start(bundle, trusted, endpoint.url, [first.device_id, second.device_id],
                      test_device=first.device_id, percents=(100,))  # fmt: skip
        wait_for(
            lambda: "FAILED" in statuses(central_store, first.device_id, "9.5.0"), "9.5.0 FAILED", timeout=60
        )
        failed = next(a for a in central_store.acks(first.device_id, "release-9.5.0") if a.status == "FAILED")
        assert "installing release 9.5.0 failed" in failed.detail and "kioskfake-printing" in failed.detail
        wait_for(
            lambda: (
                [
                    a.code
                    for a in central_store.alerts(device_id=first.device_id)
                    if a.alert_id == "app-update"
                ]
                == ["release_failed"]
            ),
            "the operators' alert",
        )
        wait_for(lambda: rollout.status().state == "halted", "the rollout halts by itself")
        status = rollout.status()
        assert "auto-halt" in status.reason and status.stages[0].failed == 1
        assert statuses(central_store, second.device_id, "9.5.0") == []
        assert first.services.releases.manager.status().installed == [] and first.running() == ""

    signed_in(web_client, *make_user(web_context, Role.OPERATOR))
    page = web_client.get("/catalog").text
    failures = page[page.index('<table id="release-failures"') :]
    failures = failures[: failures.index("</table>")]
    assert (
        first.device_id in failures and "kioskfake-printing" in failures and second.device_id not in failures
    )


@pytest.mark.usefixtures("fleet")
def test_revoked_and_long_offline_kiosks_are_skipped_and_a_silent_one_times_out_at_the_stage_deadline(
    fleet_broker: FleetBroker,
    fleet_pki: Pki,
    central_store: FleetStore,
    store_clock: SteppableClock,
    signing_keys: SigningKeys,
    endpoint: Endpoint,
    release_key: Path,
    tmp_path: Path,
    web_context: WebContext,
    web_client: TestClient,
) -> None:
    """GIVEN a live test kiosk and a second stage of a revoked kiosk, one last seen 25 h ago and one online
    that never answers WHEN release 9.6.0 (stage deadline 2 h, skip offline 24 h) reaches the second stage
    THEN the revoked and the offline kiosk are skipped with their reason and do not hold the stage, the
    silent one holds it until the deadline, then counts as timed-out (failed): 1 of 3 is within the 50 %
    limit, so the rollout may finish; the fleet page lists all three with state and reason."""
    catalog_broker = service_broker(fleet_broker, fleet_pki, "svc-catalog")
    revoked, offline, silent = new_device_id(), new_device_id(), new_device_id()

    def birth() -> StateMessage:
        return StateMessage(online=True, epoch=1, ts=int(time.time() * 1000), boot_id="b", app_ver="0.1.0")

    central_store.record_state(offline, birth())
    store_clock.advance(25 * 3600)
    for device_id in (revoked, silent):
        central_store.record_state(device_id, birth())
    central_store.mark_revoked(revoked, "broker revoke")
    rollout = ReleaseRollout(
        central_store, catalog_broker, signing_keys, ReleaseFiles(endpoint.data / "releases")
    )
    with kiosk_agent(fleet_broker, fleet_pki, signing_keys, release_key.with_suffix(".pub"), tmp_path / "k1",
                     idle=lambda: True) as first:  # fmt: skip
        rollout.start(
            make_bundle(tmp_path, "9.6.0", load_private_key(release_key)),
            load_public_keys(release_key.with_suffix(".pub")), endpoint.url,
            [first.device_id, revoked, offline, silent], test_device=first.device_id, percents=(100,),
            max_failure_rate=0.5, stage_deadline_s=2 * 3600, offline_skip_s=24 * 3600,
        )  # fmt: skip
        wait_for(lambda: rollout.status().stages[0].current == 1, "the test kiosk applied 9.6.0", timeout=60)
    status = rollout.advance()
    second = status.stages[1]
    assert (second.targets, second.skipped, second.pending, second.failed) == (3, 2, 1, 0)  # type: ignore[attr-defined]
    with pytest.raises(RolloutError, match="still has 1 of 3 kiosks pending"):
        rollout.advance()

    store_clock.advance(3 * 3600)  # past the 2 h stage deadline
    status = rollout.status()
    second = status.stages[1]
    assert (second.timed_out, second.failed, second.pending) == (1, 1, 0)  # type: ignore[attr-defined]
    assert status.state == "running", "1 of 3 (33 %) is within --max-failure-rate 0.5"
    assert rollout.advance().state == "done"
    shown = {(e.device_id, e.state, e.reason) for e in release_exceptions(central_store, rollout.status())}
    assert shown == {
        (revoked, "skipped", "revoked"),
        (offline, "skipped", "offline for 28 h"),
        (silent, "timed-out", "no result within the 2 h stage deadline"),
    }

    signed_in(web_client, *make_user(web_context, Role.OPERATOR))
    page = web_client.get("/catalog").text
    table = page[page.index('<table id="release-skipped"') :]
    table = table[: table.index("</table>")]
    assert table.count('data-state="skipped"') == 2 and table.count('data-state="timed-out"') == 1
    assert "offline for 28 h" in table and "2 h stage deadline" in table and first.device_id not in table


def test_stage_deadline_and_skip_options_are_durations(tmp_path: Path) -> None:
    """GIVEN `release rollout start --stage-deadline/--skip-offline` THEN 24h, 90m, 2d and seconds are read,
    anything else is refused with what a duration looks like."""
    assert [parse_duration(t) for t in ("24h", "90m", "2d", "3600", "0")] == [86400, 5400, 172800, 3600, 0]
    for bad in ("", "h", "1.5h", "-1h", "soon"):
        with pytest.raises(ValueError, match="not a duration"):
            parse_duration(bad)


def test_a_store_from_before_the_stage_deadline_gets_its_columns(tmp_path: Path) -> None:
    """GIVEN a central store whose release_rollout table predates the deadline and skip columns WHEN the
    store opens THEN `_ADDED_COLUMNS` adds them and the old rollout reads as before (no deadline)."""
    url = sqlite_url(tmp_path / "old.db")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE release_rollout (id INTEGER PRIMARY KEY, version VARCHAR(32) NOT NULL, "
                "sha256 VARCHAR(64) NOT NULL, length BIGINT NOT NULL, state VARCHAR(16) NOT NULL, stage INTEGER NOT NULL, "
                "max_failure_rate FLOAT NOT NULL, reason TEXT NOT NULL, created_at BIGINT NOT NULL, "
                "updated_at BIGINT NOT NULL, url TEXT NOT NULL)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO release_rollout VALUES (1, '5.0.0', :sha, 1, 'running', 0, 0.1, '', 0, 0, 'https://c')"
            ),
            {"sha": "ab" * 32},
        )
    engine.dispose()
    store = open_store(url)
    try:
        columns = {c["name"] for c in inspect(store.engine).get_columns("release_rollout")}
        assert {"stage_deadline_s", "offline_skip_s", "stage_published_at"} <= columns
        status = ReleaseRollout.read_status(store)
        assert status is not None and status.version == "5.0.0" and status.state == "running"
        assert release_exceptions(store, status) == []
    finally:
        store.close()


def _get(url: str, pki: Pki, identity: tuple[Path, Path] | None) -> tuple[int, bytes]:
    context = ssl.create_default_context(cafile=str(pki.dir / "root" / "root.pem"))
    if identity is not None:
        context.load_cert_chain(str(identity[0]), str(identity[1]))
    try:
        with urllib.request.urlopen(url, timeout=10, context=context) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_bundles_are_served_only_to_current_device_certificates(
    fleet_pki: Pki, endpoint: Endpoint, release_key: Path, tmp_path: Path
) -> None:
    """GIVEN a stored bundle THEN a kiosk with its device certificate downloads exactly its bytes; without a
    client certificate, with a service certificate, with a revoked device certificate, or for an unknown hash
    the endpoint refuses with the reason — a bundle never leaves the centre for anyone but a kiosk."""
    stored = ReleaseFiles(endpoint.data / "releases").add(
        make_bundle(tmp_path, "7.0.0", load_private_key(release_key)),
        load_public_keys(release_key.with_suffix(".pub")),
    )
    url = f"{endpoint.url}/v1/releases/{stored.sha256}"
    device = new_device_id()
    ident = device_identity(fleet_pki, device, tmp_path / "id")
    code, body = _get(url, fleet_pki, (ident.cert_file, ident.key_file))
    assert code == 200 and body == stored.path.read_bytes()

    code, body = _get(url, fleet_pki, None)
    assert code == 403 and json.loads(body)["code"] == "certificate-required"
    svc = service_identity(fleet_pki, "svc-ingest")
    code, body = _get(url, fleet_pki, (svc.cert_file, svc.key_file))
    assert code == 403 and json.loads(body)["code"] == "certificate-rejected"
    code, body = _get(f"{endpoint.url}/v1/releases/{'0' * 64}", fleet_pki, (ident.cert_file, ident.key_file))
    assert code == 404 and json.loads(body)["code"] == "release-unknown"
    fleet_pki.revoke(device)
    code, body = _get(url, fleet_pki, (ident.cert_file, ident.key_file))
    assert code == 403 and "revoked" in json.loads(body)["message"]


def test_centre_refuses_to_publish_a_bundle_kiosks_would_refuse(
    central_store: FleetStore,
    signing_keys: SigningKeys,
    endpoint: Endpoint,
    release_key: Path,
    tmp_path: Path,
) -> None:
    """GIVEN a bundle signed by a key the kiosks do not trust, or an http:// address THEN `release rollout start`
    refuses before anything is published, saying what to do."""
    broker = BrokerConfig(url="mqtt://127.0.0.1:1")  # never reached
    rollout = ReleaseRollout(central_store, broker, signing_keys, ReleaseFiles(tmp_path / "releases"))
    trusted = load_public_keys(release_key.with_suffix(".pub"))
    stranger = make_bundle(tmp_path, "8.0.0", Ed25519PrivateKey.generate())
    with pytest.raises(UserError, match="no valid signature"):
        rollout.start(stranger, trusted, endpoint.url, ["jp-999999-k01"])
    good = make_bundle(tmp_path / "good", "8.0.0", load_private_key(release_key))
    with pytest.raises(RolloutError, match="https://"):
        rollout.start(good, trusted, "http://central:8443", ["jp-999999-k01"])
    assert rollout.latest() is None and not (tmp_path / "releases").exists()


@pytest.mark.usefixtures("fleet")
def test_kiosk_refuses_a_tampered_foreign_or_older_release_and_keeps_what_it_runs(
    fleet_broker: FleetBroker,
    fleet_pki: Pki,
    central_store: FleetStore,
    signing_keys: SigningKeys,
    endpoint: Endpoint,
    release_key: Path,
    tmp_path: Path,
) -> None:
    """GIVEN signed desired documents naming (1) a bundle whose bytes do not match the signed hash, (2) a
    bundle signed by a key this kiosk does not trust, (3) a version below the app it runs THEN the kiosk
    reports FAILED / REJECTED with the reason, raises the app-update alert, installs nothing, hands nothing
    to the installer, and does not download the tampered bundle again when the document comes back."""
    catalog_broker = service_broker(fleet_broker, fleet_pki, "svc-catalog")
    files = ReleaseFiles(endpoint.data / "releases")
    genuine = files.add(make_bundle(tmp_path, "9.1.0", load_private_key(release_key)),
                        load_public_keys(release_key.with_suffix(".pub")))  # fmt: skip
    other_key = tmp_path / "other.key"
    generate_key(other_key)
    foreign = files.add(make_bundle(tmp_path / "f", "9.2.0", load_private_key(other_key)),
                        load_public_keys(other_key.with_suffix(".pub")))  # fmt: skip

    def url(sha256: str) -> str:
        return f"{endpoint.url}/v1/releases/{sha256}"

    with kiosk_agent(fleet_broker, fleet_pki, signing_keys, release_key.with_suffix(".pub"), tmp_path / "k",
                     idle=lambda: True) as kiosk:  # fmt: skip
        cases = [
            (ReleaseRef(version="9.1.0", sha256="ab" * 32, length=genuine.length, url=url(genuine.sha256)),
             "FAILED", "does not match the signed hash"),
            (ReleaseRef(version="9.2.0", sha256=foreign.sha256, length=foreign.length, url=url(foreign.sha256)),
             "REJECTED", "no valid signature"),
            (ReleaseRef(version="0.0.9", sha256=genuine.sha256, length=genuine.length, url=url(genuine.sha256)),
             "REJECTED", "not above 0.1.0"),
        ]  # fmt: skip
        topic = down(kiosk.device_id, Down.DESIRED)
        publish_documents(catalog_broker, [Outgoing(FLEET_KEYS, signing_keys.keys_document().to_bytes())])
        for ref, status, reason in cases:
            document = DesiredDocument(
                device=kiosk.device_id, release=ref, expires=int((time.time() + 3600) * 1000)
            )
            envelope = sign(PayloadType.DESIRED, document.to_bytes(), signing_keys.catalog_key())
            publish_documents(catalog_broker, [Outgoing(topic, envelope.to_bytes())])
            wait_for(lambda r=ref, s=status: s in statuses(central_store, kiosk.device_id, r.version), f"{status} for {ref.version}")  # fmt: skip
            detail = [
                a.detail
                for a in central_store.acks(kiosk.device_id, f"release-{ref.version}")
                if a.status == status
            ]
            assert reason in detail[0]
            kiosk.services.releases.wait_idle()
        wait_for(
            lambda: (
                [
                    a.code
                    for a in central_store.alerts(device_id=kiosk.device_id)
                    if a.alert_id == "app-update"
                ]
                == ["release_rejected"]
            ),
            "the app-update alert",
        )
        assert kiosk.services.releases.manager.status().installed == []
        assert not (kiosk.releases / "pending.json").exists() and kiosk.running() == ""
        assert not list((kiosk.releases / "incoming").glob("*.tar")), "refused bundles are not kept"

        before = len(statuses(central_store, kiosk.device_id, "9.1.0"))
        kiosk.services.releases.on_release(cases[0][0])  # the retained document delivered again
        kiosk.services.releases.wait_idle()
        time.sleep(0.5)
        assert len(statuses(central_store, kiosk.device_id, "9.1.0")) == before, "no second download"
