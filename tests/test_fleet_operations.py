"""Fleet operations that must survive a broker restart and a hostile broker client (issue 21).

Through a real Mosquitto and the operators' own `kiosk-central` commands: the kill switch is built
from the central store and confirmed by the kiosks; retained fleet documents come back after a
broker restart; catalogs are published without the root key; the CRL refresh reaches the broker.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient

from central_broker.accounts import Role
from central_broker.broker import MosquittoBroker
from central_broker.broker_fleet import FleetBroker, FleetTlsFiles
from central_broker.catalog_push import SigningKeys
from central_broker.catalog_push.publisher import Outgoing
from central_broker.catalog_push.retained import RetainedKeeper
from central_broker.cli import main
from central_broker.ingest import Ingest
from central_broker.pki.authority import Pki
from central_broker.pki.crl_status import CrlWatch
from central_broker.pki.x509 import key_pem, new_key
from central_broker.store import FleetStore, sqlite_url
from central_broker.web import WebContext
from madoguchi.config.broker import BrokerConfig
from madoguchi.contracts.signed import (
    ControlDocument,
    Envelope,
    FunctionControl,
    KeysDocument,
    PayloadType,
    key_id,
    sign,
    verify,
)
from madoguchi.contracts.topics import FLEET_CONTROL, FLEET_KEYS
from madoguchi.mqtt_client import make_client
from tests.fixtures.fleet import new_device_id, wait_for
from tests.fixtures.fleet_pki import device_identity
from tests.fixtures.fleet_signing import catalog_body, publish, trusting_agent
from tests.fixtures.web import csrf_of, make_user, signed_in

pytestmark = pytest.mark.mosquitto

REPO = Path(__file__).resolve().parents[1]


def central_toml(tmp_path: Path, broker: MosquittoBroker, keys_dir: Path) -> Path:
    """A central.toml on the test's store (the `central_store` fixture's file) and broker."""
    path = tmp_path / "central.toml"
    path.write_text(
        f'[central]\ndata_dir = "{tmp_path / "central"}"\n'
        f'store_url = "{sqlite_url(tmp_path / "central" / "central.db")}"\n'
        f'[broker]\nurl = "{broker.url}"\n[web]\nsigning_keys_dir = "{keys_dir}"\n',
        encoding="utf-8",
    )
    return path


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object], str]:
    """Run `kiosk-central ARGV --json`; (exit status, JSON answer or {}, stderr)."""
    capsys.readouterr()
    code = main([*argv, "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else {}, err


def retained(broker: MosquittoBroker, topic: str, wait_s: float = 1.5) -> bytes | None:
    """The retained payload on `topic` (None when the broker holds none)."""
    client = make_client(f"probe-{time.monotonic_ns()}", BrokerConfig(url=broker.url))
    got: list[bytes] = []
    arrived = threading.Event()
    client.on_message = lambda _c, _u, m: (got.append(m.payload), arrived.set())
    client.on_connect = lambda c, *_a: c.subscribe(topic, qos=1)
    client.connect(broker.host, broker.port)
    client.loop_start()
    arrived.wait(wait_s)
    client.disconnect()
    client.loop_stop()
    return got[0] if got and got[0] else None


@pytest.fixture
def own_keys(signing_keys: SigningKeys, tmp_path: Path) -> SigningKeys:
    """This test's copy of the session's signing keys (tests may move the root key away)."""
    folder = tmp_path / "signing"
    shutil.copytree(signing_keys.dir, folder)
    return SigningKeys(folder)


@pytest.fixture
def central(
    private_mosquitto: MosquittoBroker,
    ingest_for: Callable[[MosquittoBroker], Ingest],
    central_store: FleetStore,
    own_keys: SigningKeys,
    tmp_path: Path,
) -> Path:
    """An ingest on the private broker writing `central_store`, and the central.toml for the CLI."""
    ingest_for(private_mosquitto)
    return central_toml(tmp_path, private_mosquitto, own_keys.dir)


def _suspended(services: object) -> bool:
    return bool(services.kill_switch.suspension("issuance").suspended)  # type: ignore[attr-defined]


def test_kill_switch_survives_a_broker_restart_and_is_confirmed_by_the_kiosks(
    central: Path,
    private_mosquitto: MosquittoBroker,
    central_store: FleetStore,
    own_keys: SigningKeys,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """GIVEN a kiosk that applied kill-switch version 1 WHEN the broker restarts (retained messages lost)
    and the operator resumes issuance THEN the CLI publishes version 2 (not 1 again), the kiosk applies it,
    and the CLI says so from what the kiosk reported."""
    device = new_device_id()
    with trusting_agent(private_mosquitto, own_keys, tmp_path / "kiosk", device) as (_agent, services):
        publish(private_mosquitto, Outgoing(FLEET_KEYS, own_keys.keys_document().to_bytes()))
        wait_for(lambda: central_store.device(device) is not None, "the kiosk in the store")
        code, answer, err = cli(capsys, "issuance", "kill-switch", "on", "--municipality", "999999",
                                "--message", "点検中", "--config", str(central), "--wait", "15")  # fmt: skip
        assert code == 0, err
        assert answer["version"] == 1 and answer["confirmed"] is True and device in answer["applied"]  # type: ignore[operator]
        assert _suspended(services)

        private_mosquitto.restart()
        assert retained(private_mosquitto, FLEET_CONTROL) is None  # the broker forgot the document
        wait_for(lambda: services.kill_switch.version == 1 and _agent.connected.is_set(), "reconnect", 15)
        code, answer, err = cli(capsys, "issuance", "kill-switch", "off", "--municipality", "999999",
                                "--config", str(central), "--wait", "15")  # fmt: skip
        assert code == 0, err
        assert answer["version"] == 2 and answer["confirmed"] is True
        assert not _suspended(services)
        code, status, _err = cli(capsys, "issuance", "kill-switch", "status", "--config", str(central))
        assert code == 0 and status["version"] == 2 and status["broker"] == "verified"
        assert device in status["applied"]  # type: ignore[operator]


def test_kill_switch_never_signs_what_a_hostile_client_planted_on_the_broker(
    central: Path,
    private_mosquitto: MosquittoBroker,
    central_store: FleetStore,
    own_keys: SigningKeys,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """GIVEN a forged retained `fleet/control` v999 that suspends payment WHEN the operator suspends one kiosk
    THEN the signed document carries the centre's own content and version (payment not suspended), the kiosk
    applies it, and `status` names the broker's copy as the centre's."""
    device = new_device_id()
    forged = ControlDocument(version=999, ts=0, payment=FunctionControl(suspended_all=True))
    with trusting_agent(private_mosquitto, own_keys, tmp_path / "kiosk", device) as (_agent, services):
        publish(private_mosquitto, Outgoing(FLEET_KEYS, own_keys.keys_document().to_bytes()))
        rogue = sign(PayloadType.CONTROL, forged.to_bytes(), Ed25519PrivateKey.generate())
        publish(private_mosquitto, Outgoing(FLEET_CONTROL, rogue.to_bytes()))
        wait_for(lambda: central_store.device(device) is not None, "the kiosk in the store")
        code, status, _err = cli(capsys, "issuance", "kill-switch", "status", "--config", str(central))
        assert code == 0 and status["broker"] == "unverified"
        code, answer, err = cli(capsys, "issuance", "kill-switch", "on", "--device", device,
                                "--config", str(central), "--wait", "15")  # fmt: skip
        assert code == 0, err
        assert answer["version"] == 1
        public = own_keys.catalog_key().public_key()
        payload = retained(private_mosquitto, FLEET_CONTROL)
        assert payload is not None
        published = ControlDocument.from_bytes(
            verify(Envelope.from_bytes(payload), PayloadType.CONTROL, {key_id(public): public})
        )
        assert published.version == 1 and not published.payment.suspended_all
        assert published.issuance.suspended_devices == [device]
        assert _suspended(services) and not services.kill_switch.suspension("payment").suspended


def test_next_kill_switch_version_is_above_what_kiosks_report_after_the_central_store_was_lost(
    central: Path,
    private_mosquitto: MosquittoBroker,
    central_store: FleetStore,
    own_keys: SigningKeys,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """GIVEN a kiosk holding control version 7 that the (new, empty) central store never signed WHEN the
    operator switches THEN version 8 goes out and the kiosk applies it."""
    device = new_device_id()
    with trusting_agent(private_mosquitto, own_keys, tmp_path / "kiosk", device) as (_agent, services):
        publish(private_mosquitto, Outgoing(FLEET_KEYS, own_keys.keys_document().to_bytes()))
        earlier = sign(
            PayloadType.CONTROL, ControlDocument(version=7, ts=0).to_bytes(), own_keys.catalog_key()
        )
        publish(private_mosquitto, Outgoing(FLEET_CONTROL, earlier.to_bytes()))
        wait_for(lambda: central_store.control_versions_reported().get(device) == 7, "control_ver 7 reported")
        publish(private_mosquitto, Outgoing(FLEET_CONTROL, b""))  # the broker lost it too
        code, answer, err = cli(
            capsys, "issuance", "kill-switch", "on", "--config", str(central), "--wait", "15"
        )
        assert code == 0, err
        assert answer["version"] == 8 and answer["confirmed"] is True
        assert _suspended(services)


def test_kill_switch_reports_kiosks_that_did_not_confirm(
    central: Path,
    private_mosquitto: MosquittoBroker,
    central_store: FleetStore,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """GIVEN an online kiosk that does not trust the centre's keys WHEN the operator switches THEN the CLI
    exits 1 and names the kiosk as not confirmed."""
    device = new_device_id()
    stranger = SigningKeys.init(tmp_path / "stranger")
    with trusting_agent(private_mosquitto, stranger, tmp_path / "kiosk", device):
        wait_for(lambda: central_store.device(device) is not None, "the kiosk in the store")
        code, answer, _err = cli(
            capsys, "issuance", "kill-switch", "on", "--config", str(central), "--wait", "2"
        )
        assert code == 1
        assert answer["confirmed"] is False and answer["waiting"] == [device]


def test_retained_fleet_documents_come_back_after_a_broker_restart(
    central: Path,
    private_mosquitto: MosquittoBroker,
    central_store: FleetStore,
    own_keys: SigningKeys,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """GIVEN a published catalog and kill switch WHEN the broker restarts without persistence THEN the
    centre publishes keys, control, catalog and desired documents again by itself, and a kiosk that was
    never online before installs the catalog and applies the kill switch; `catalog refresh` restores them too."""
    device = new_device_id()
    catalog = tmp_path / "catalog.json"
    catalog.write_bytes(catalog_body(41))
    code, _answer, err = cli(
        capsys, "catalog", "publish", str(catalog), "--devices", device, "--config", str(central)
    )
    assert code == 0, err
    code, _answer, err = cli(capsys, "issuance", "kill-switch", "on", "--device", device, "--config", str(central),
                             "--wait", "0")  # fmt: skip
    keeper = RetainedKeeper(BrokerConfig(url=private_mosquitto.url), central_store)
    keeper.start()
    try:
        wait_for(lambda: keeper.passes >= 1, "the start-up publication")
        private_mosquitto.restart()
        wait_for(lambda: keeper.passes >= 2, "the publication after the broker restart", 20)
    finally:
        keeper.stop()
    with trusting_agent(private_mosquitto, own_keys, tmp_path / "new-kiosk", device) as (_agent, services):
        wait_for(lambda: services.catalogs.version() == 41, "the catalog on a new kiosk", 15)
        wait_for(lambda: _suspended(services), "the kill switch on a new kiosk")

    private_mosquitto.restart()
    assert retained(private_mosquitto, FLEET_KEYS) is None
    code, answer, err = cli(capsys, "catalog", "refresh", "--config", str(central))
    assert code == 0, err
    assert int(answer["republished"]) >= 5  # type: ignore[call-overload]  # keys, control, body, manifest, desired
    assert retained(private_mosquitto, FLEET_KEYS) is not None
    assert retained(private_mosquitto, FLEET_CONTROL) is not None


def test_catalog_publish_needs_the_root_key_only_when_fleet_keys_must_change(
    central: Path,
    private_mosquitto: MosquittoBroker,
    own_keys: SigningKeys,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """GIVEN the root key kept offline WHEN the first catalog is published THEN it is refused with the option
    to pass; with --root-key it goes out; the next catalog goes out with the catalog key alone, with the same
    fleet/keys, and the kiosk installs it."""
    offline = tmp_path / "usb" / "root.key"
    offline.parent.mkdir()
    shutil.move(own_keys.dir / "root.key", offline)
    device = new_device_id()
    first, second = tmp_path / "v51.json", tmp_path / "v52.json"
    first.write_bytes(catalog_body(51))
    second.write_bytes(catalog_body(52))
    publish_argv = ("catalog", "publish", "--devices", device, "--config", str(central))
    code, _answer, err = cli(capsys, *publish_argv[:2], str(first), *publish_argv[2:])
    assert code == 2 and "--root-key" in err and "root key" in err
    code, _answer, err = cli(
        capsys, *publish_argv[:2], str(first), *publish_argv[2:], "--root-key", str(offline)
    )
    assert code == 0, err
    keys_before = retained(private_mosquitto, FLEET_KEYS)
    with trusting_agent(private_mosquitto, own_keys, tmp_path / "kiosk", device) as (_agent, services):
        wait_for(lambda: services.catalogs.version() == 51, "catalog 51")
        code, _answer, err = cli(capsys, *publish_argv[:2], str(second), *publish_argv[2:])
        assert code == 0, err
        wait_for(lambda: services.catalogs.version() == 52, "catalog 52 published without the root key")
    assert retained(private_mosquitto, FLEET_KEYS) == keys_before
    assert keys_before is not None and KeysDocument.from_bytes(Envelope.from_bytes(keys_before).body()).keys


# --- CRLs reaching the broker -------------------------------------------------------------------------


def _device(pki: Pki, name: str, folder: Path) -> Path:
    key = new_key()
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True)
    (folder / "key.pem").write_bytes(key_pem(key))
    (folder / "cert.pem").write_bytes(pki.issue_device(csr, name).chain_pem())
    return folder


@pytest.fixture
def short_crl_broker(tmp_path: Path) -> Iterator[tuple[Pki, FleetBroker]]:
    """A PKI of its own whose CRLs live 5 s, and the fleet broker configured from it."""
    if shutil.which("mosquitto") is None or shutil.which("mosquitto_pub") is None:
        pytest.skip("mosquitto and mosquitto-clients are needed")
    pki = Pki.init(tmp_path / "pki")
    pki.issue_service("broker", hosts=["127.0.0.1"])
    pki.write_crls(dt.timedelta(seconds=5))
    broker = FleetBroker(tmp_path / "broker", FleetTlsFiles.from_pki(pki.dir))
    broker.start()
    yield pki, broker
    broker.stop()


def _kiosk_connects(pki: Pki, broker: FleetBroker, identity: Path) -> bool:
    result = subprocess.run(
        ["mosquitto_pub", "-V", "mqttv5", "-h", "127.0.0.1", "-p", str(broker.port),
         "--cafile", str(pki.dir / "root" / "root.pem"), "--cert", str(identity / "cert.pem"),
         "--key", str(identity / "key.pem"), "-t", f"kiosk/v1/d/{identity.name}/up/event", "-m", "{}", "-q", "1"],
        capture_output=True, timeout=20, check=False,
    )  # fmt: skip
    return result.returncode == 0


def test_daily_crl_refresh_reaches_the_broker_before_the_fleet_is_locked_out(
    short_crl_broker: tuple[Pki, FleetBroker], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a broker whose CRL copy expires WHEN it has expired THEN kiosks are refused and `ca check` says so;
    `ca crl --broker-dir --pid` installs the new CRL and reloads the broker: kiosks connect again without a
    restart and `ca check` is clean. A refresh that does not reach the broker is reported as stale."""
    pki, broker = short_crl_broker
    kiosk = _device(pki, "jp-131016-k01", tmp_path / "jp-131016-k01")
    assert _kiosk_connects(pki, broker, kiosk)
    code, answer, _err = cli(
        capsys, "ca", "check", "--dir", str(pki.dir), "--broker-dir", str(broker.workdir)
    )
    assert code == 1 and all("expires" in c["problem"] for c in answer["crls"])  # type: ignore[union-attr,index]
    time.sleep(5.5)
    assert not _kiosk_connects(pki, broker, kiosk)  # the whole fleet would be locked out now
    code, answer, _err = cli(
        capsys, "ca", "check", "--dir", str(pki.dir), "--broker-dir", str(broker.workdir)
    )
    assert code == 1 and "expired" in json.dumps(answer)

    code, answer, err = cli(capsys, "ca", "crl", "--dir", str(pki.dir), "--broker-dir", str(broker.workdir),
                            "--pid", str(broker.pid))  # fmt: skip
    assert code == 0, err
    assert answer["reloaded"] is True and len(answer["broker"]) == 2  # type: ignore[arg-type]
    time.sleep(0.5)
    assert _kiosk_connects(pki, broker, kiosk)
    code, _answer, _err = cli(
        capsys, "ca", "check", "--dir", str(pki.dir), "--broker-dir", str(broker.workdir)
    )
    assert code == 0

    time.sleep(1.1)  # a later CRL, written without --broker-dir, never reaches the broker
    code, _answer, _err = cli(capsys, "ca", "crl", "--dir", str(pki.dir))
    code, answer, _err = cli(
        capsys, "ca", "check", "--dir", str(pki.dir), "--broker-dir", str(broker.workdir)
    )
    assert code == 1 and "did not reach the broker" in json.dumps(answer)


def test_revoked_kiosk_is_refused_at_its_next_handshake_without_a_broker_restart(
    short_crl_broker: tuple[Pki, FleetBroker], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN two kiosks WHEN one is revoked and `broker revoke --pid` runs THEN its TLS handshake is refused at
    once (the CRL is re-read on SIGHUP) while the other still connects."""
    pki, broker = short_crl_broker
    pki.write_crls()
    stolen = _device(pki, "jp-131016-k02", tmp_path / "jp-131016-k02")
    other = _device(pki, "jp-131016-k03", tmp_path / "jp-131016-k03")
    assert (
        main(
            [
                "ca",
                "crl",
                "--dir",
                str(pki.dir),
                "--broker-dir",
                str(broker.workdir),
                "--pid",
                str(broker.pid),
            ]
        )
        == 0
    )
    time.sleep(0.3)
    assert _kiosk_connects(pki, broker, stolen)
    assert main(["ca", "revoke", "jp-131016-k02", "--dir", str(pki.dir), "--reason", "stolen"]) == 0
    code, answer, err = cli(capsys, "broker", "revoke", "jp-131016-k02", "--out", str(broker.workdir),
                            "--pki", str(pki.dir), "--pid", str(broker.pid))  # fmt: skip
    assert code == 0 and answer["reloaded"] is True, err
    time.sleep(0.5)
    assert not _kiosk_connects(pki, broker, stolen)
    assert _kiosk_connects(pki, broker, other)
    assert "certificate verify failed" in broker.log_text()


def test_shipped_crl_timer_runs_the_refresh_and_the_check(
    short_crl_broker: tuple[Pki, FleetBroker], capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN the shipped madoguchi-crl.service WHEN its kiosk-central command lines run with this PKI and broker
    folder THEN both succeed (the options exist and do what the unit expects), and the timer runs daily."""
    pki, broker = short_crl_broker
    unit = (REPO / "provisioning" / "central" / "madoguchi-crl.service").read_text(encoding="utf-8")
    timer = (REPO / "provisioning" / "central" / "madoguchi-crl.timer").read_text(encoding="utf-8")
    assert "OnCalendar=daily" in timer and "Persistent=true" in timer
    assert "ExecStartPost=/bin/systemctl reload mosquitto.service" in unit
    commands = [
        line.split("=", 1)[1].split()
        for line in unit.splitlines()
        if line.startswith(("ExecStart=", "ExecStartPost=")) and "kiosk-central" in line
    ]
    assert [c[1:3] for c in commands] == [["ca", "crl"], ["ca", "check"]]
    values = {"${MADOGUCHI_PKI_DIR}": str(pki.dir), "${MADOGUCHI_BROKER_DIR}": str(broker.workdir)}
    for command in commands:
        assert main([values.get(word, word) for word in command[1:]]) == 0
    broker.reload()  # what `systemctl reload mosquitto` does


def test_operators_see_a_crl_that_is_about_to_expire_on_every_page(
    web_context: WebContext, web_client: TestClient, tmp_path: Path
) -> None:
    """GIVEN a PKI whose CRLs expire in 2 days (the daily refresh stopped) WHEN an operator opens the dashboard
    THEN every page says what will happen and what to run; counter staff do not get the banner."""
    pki = Pki.init(tmp_path / "pki")
    pki.write_crls(dt.timedelta(days=2))
    web_context.central_warnings = CrlWatch(pki.dir, None).problems
    signed_in(web_client, *make_user(web_context, Role.OPERATOR))
    page = web_client.get("/fleet").text
    assert 'id="central-warnings"' in page and "kiosk-central ca crl" in page and "device-ca" in page
    web_client.post("/logout", data={"csrf_token": csrf_of(page)})
    signed_in(web_client, *make_user(web_context, Role.STAFF))
    assert 'id="central-warnings"' not in web_client.get("/orders").text
    pki.write_crls()
    web_context.central_warnings = CrlWatch(pki.dir, None).problems
    signed_in(web_client, *make_user(web_context, Role.OPERATOR))
    assert 'id="central-warnings"' not in web_client.get("/fleet").text


def test_a_kill_switch_that_arrives_before_the_fleet_keys_is_applied_once_they_come(
    private_mosquitto: MosquittoBroker, own_keys: SigningKeys, tmp_path: Path
) -> None:
    """GIVEN a new kiosk (no fleet keys yet) WHEN the retained kill switch reaches it before `fleet/keys`
    (restored by the centre in another order) THEN it applies the switch as soon as the keys arrive, and
    raises no alert for the wait."""
    stop = ControlDocument(version=3, ts=0, issuance=FunctionControl(suspended_all=True))
    document = sign(PayloadType.CONTROL, stop.to_bytes(), own_keys.catalog_key())
    with trusting_agent(private_mosquitto, own_keys, tmp_path / "kiosk", new_device_id()) as (
        agent,
        services,
    ):
        publish(private_mosquitto, Outgoing(FLEET_CONTROL, document.to_bytes()))
        time.sleep(0.5)
        assert not _suspended(services)
        publish(private_mosquitto, Outgoing(FLEET_KEYS, own_keys.keys_document().to_bytes()))
        wait_for(lambda: _suspended(services), "the waiting kill switch applied")
        assert "control-invalid" not in agent.telemetry.active_alerts()


@pytest.mark.parametrize(
    ("reason", "says", "never"),
    [("replaced", "kiosk-central ca crl --broker-dir", "kiosk-central broker revoke"),
     ("stolen", "kiosk-central broker revoke", "kiosk-central ca crl")],
)  # fmt: skip
def test_ca_revoke_tells_the_operator_the_next_step_the_runbook_gives_for_the_reason(
    reason: str, says: str, never: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a kiosk revoked as replaced WHEN `ca revoke` reports THEN it says to hand over the CRL and not to add a
    deny block (which would lock out the replacement, runbook section 2); a stolen one gets `broker revoke`."""
    pki = Pki.init(tmp_path / "pki")
    device = "jp-131016-k09"
    device_identity(pki, device, tmp_path / "identity")
    capsys.readouterr()
    assert main(["ca", "revoke", device, "--dir", str(pki.dir), "--reason", reason]) == 0
    out = capsys.readouterr().out
    assert says in out and f"`{never}" not in out
