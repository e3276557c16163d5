"""`kiosk-central serve` over the mTLS service listener only: one broker identity per function.

The fleet broker runs without its loopback listener; serve connects the ingest as svc-ingest, the RPC
service as svc-rpc and the catalog functions as svc-catalog (`[broker.identities.*]`). A kiosk with a
device certificate is seen online, its `up/ack` answers are stored, an RPC is answered; a serve
whose rpc function would connect as svc-ingest refuses to start and names the fix.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from central_broker.broker_fleet import SERVICES, FleetBroker
from central_broker.catalog_push import SigningKeys
from central_broker.catalog_push.publisher import Outgoing, publish_documents
from central_broker.pki.authority import Pki
from central_broker.store import open_store
from central_broker.web.setup import open_orders
from kiosk_app.agent import AgentOptions, FleetAgent, SimulatedDeviceHealth
from kiosk_app.agent.fleet_services import FleetServices, attach_fleet_services, root_keys_dir
from kiosk_app.rpc_client import RpcCallError, RpcClient
from madoguchi.config import ConfigFileError
from madoguchi.config.broker import BrokerConfig
from madoguchi.config.central import load_central_config
from madoguchi.config.kiosk import simulated_kiosk_config
from madoguchi.contracts.catalog import load_sample_catalog
from madoguchi.contracts.orders import OrderResult, OrderStatus, make_order_code
from madoguchi.contracts.rpc import RpcErrorCode
from madoguchi.contracts.topics import FLEET_KEYS
from madoguchi.errors import UserError
from tests.fixtures.central_store import wait_for_device
from tests.fixtures.fleet import new_device_id, wait_for
from tests.fixtures.fleet_pki import Identity, device_identity, service_identity

KIOSK_CENTRAL = str(Path(sys.executable).parent / "kiosk-central")


def _identity_table(role: str, who: Identity) -> str:
    return f'\n[broker.identities.{role}]\ncert_file = "{who.cert_file}"\nkey_file = "{who.key_file}"\n'


def write_central(
    folder: Path,
    url: str,
    default: Identity,
    identities: dict[str, Identity] | None = None,
    signing_dir: Path | None = None,
) -> Path:
    """A central.toml over `url` with `default` as `[broker]`'s identity plus `identities` per role."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (
        f'[central]\ndata_dir = "{folder / "data"}"\nstore_url = "sqlite:///{folder / "central.db"}"\n\n'
        f'[broker]\nurl = "{url}"\nca_file = "{default.ca_file}"\n'
        f'cert_file = "{default.cert_file}"\nkey_file = "{default.key_file}"\nkeepalive = 10\n'
    )
    for role, who in (identities or {}).items():
        text += _identity_table(role, who)
    text += "\n[web]\nport = 0\n"
    if signing_dir is not None:
        text += f'signing_keys_dir = "{signing_dir}"\n'
    path = folder / "central.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- configuration -------------------------------------------------------------------------------


def test_broker_for_gives_each_role_its_identity_and_falls_back_to_broker(
    fleet_pki: Pki, tmp_path: Path
) -> None:
    """GIVEN [broker] as svc-ingest and [broker.identities.rpc] WHEN broker_for(role) THEN rpc gets the
    svc-rpc files, ingest and catalog the default ones, all with [broker]'s URL, CA and keepalive."""
    from madoguchi.config.central import SERVICE_NAMES

    ingest, rpc = service_identity(fleet_pki, "svc-ingest"), service_identity(fleet_pki, "svc-rpc")
    config = load_central_config(write_central(tmp_path, "mqtts://127.0.0.1:8884", ingest, {"rpc": rpc}))
    for_rpc = config.broker_for("rpc")
    assert type(for_rpc) is BrokerConfig
    assert (for_rpc.cert_file, for_rpc.key_file) == (rpc.cert_file, rpc.key_file)
    assert (for_rpc.url, for_rpc.ca_file, for_rpc.keepalive) == ("mqtts://127.0.0.1:8884", ingest.ca_file, 10)
    for role in ("ingest", "catalog"):
        assert config.broker_for(role).cert_file == ingest.cert_file  # type: ignore[arg-type]
    assert set(SERVICE_NAMES.values()) == set(SERVICES)  # the roles are the ACL's service users


def test_identity_tables_are_checked_like_the_rest_of_the_file(fleet_pki: Pki, tmp_path: Path) -> None:
    """GIVEN a misspelt role, an identity without key_file, or identities over plaintext WHEN loaded
    THEN each is reported with its key and fix."""
    ingest, rpc = service_identity(fleet_pki, "svc-ingest"), service_identity(fleet_pki, "svc-rpc")
    path = write_central(tmp_path, "mqtts://127.0.0.1:8884", ingest, {"rpc": rpc})
    text = path.read_text() + f'\n[broker.identities.catalgo]\ncert_file = "{rpc.cert_file}"\n'
    path.write_text(text.replace(f'key_file = "{rpc.key_file}"\n', ""), encoding="utf-8")
    with pytest.raises(ConfigFileError) as caught:
        load_central_config(path)
    found = {p.key: p for p in caught.value.problems}
    assert set(found) == {"broker.identities.rpc.key_file", "broker.identities.catalgo"}
    assert "did you mean 'catalog'" in found["broker.identities.catalgo"].fix
    plain = write_central(tmp_path / "plain", "mqtt://127.0.0.1:1883", ingest, {"rpc": rpc})
    with pytest.raises(ConfigFileError) as caught:
        load_central_config(plain)
    (problem,) = caught.value.problems
    assert problem.key == "broker.identities" and "mqtts://" in problem.problem


def test_identity_check_refuses_another_service_and_warns_about_unknown_names(
    fleet_pki: Pki, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """GIVEN the catalog role given the svc-rpc certificate THEN the check refuses naming the role, the CN
    and the table to add; GIVEN a certificate with an unknown CN (custom ACL) THEN it passes with a warning."""
    from central_broker.commands.serve_cmd import check_identities

    ingest, rpc = service_identity(fleet_pki, "svc-ingest"), service_identity(fleet_pki, "svc-rpc")
    config = load_central_config(
        write_central(tmp_path / "a", "mqtts://127.0.0.1:8884", ingest, {"rpc": rpc, "catalog": rpc})
    )
    assert check_identities(config, ("ingest", "rpc")) == {"ingest": "svc-ingest", "rpc": "svc-rpc"}
    with pytest.raises(UserError) as refused:
        check_identities(config, ("ingest", "rpc", "catalog"))
    text = str(refused.value)
    assert "catalog function would connect as svc-rpc" in text and "[broker.identities.catalog]" in text
    assert "svc-catalog" in text and "pki/services/svc-catalog/chain.pem" in text
    fleet_pki.issue_service("svc-custom")
    custom = service_identity(fleet_pki, "svc-custom")
    config = load_central_config(
        write_central(tmp_path / "b", "mqtts://127.0.0.1:8884", ingest, {"rpc": custom})
    )
    with caplog.at_level(logging.WARNING):
        assert check_identities(config, ("ingest", "rpc"))["rpc"] == "svc-custom"
    assert "'svc-custom'" in caplog.text and "svc-rpc" in caplog.text


# --- serve end to end ----------------------------------------------------------------------------


@contextmanager
def serving(config_path: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`kiosk-central serve --config` in the background until the block ends."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [KIOSK_CENTRAL, "-v", "serve", "--config", str(config_path)], stdout=out, stderr=out
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@contextmanager
def mtls_kiosk(
    broker: FleetBroker, pki: Pki, keys: SigningKeys, folder: Path, dev: str
) -> Iterator[tuple[FleetAgent, FleetServices]]:
    """A running kiosk agent with its device certificate on the device listener, trusting `keys`."""
    ident = device_identity(pki, dev, folder / "identity")
    data = folder / "data"
    root_keys_dir(data).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(keys.root_public, root_keys_dir(data) / "root.pub")
    config = simulated_kiosk_config(
        data, broker.url, dev, ca_file=ident.ca_file, cert_file=ident.cert_file, key_file=ident.key_file
    )
    options = AgentOptions(reconnect_min_s=0.2, tick_s=0.05, drain_start_delay=lambda: 0.0)
    agent = FleetAgent(config, SimulatedDeviceHealth(config), options=options)
    services = attach_fleet_services(agent, idle=lambda: True, clock_is_synced=lambda: True)
    stop = threading.Event()
    runner = threading.Thread(target=agent.run, args=(stop,))
    agent.start()
    runner.start()
    try:
        yield agent, services
    finally:
        stop.set()
        runner.join()
        agent.stop()


@pytest.mark.mosquitto
def test_serve_over_mtls_only_stores_births_and_acks_and_answers_rpc(
    fleet_broker: FleetBroker, fleet_pki: Pki, tmp_path: Path
) -> None:
    """GIVEN the fleet broker without a loopback listener and serve with the svc-ingest, svc-rpc and
    svc-catalog identities on the service listener WHEN a kiosk connects with its device certificate,
    `kiosk-central command` sends it a signed command and another kiosk looks an order up by RPC THEN
    the kiosk's birth and its ACCEPTED/DONE acks are in the store and the RPC is answered."""
    assert fleet_broker.loopback_port is None
    keys = SigningKeys.init(tmp_path / "signing")
    ids = {name: service_identity(fleet_pki, name) for name in SERVICES}
    central = write_central(
        tmp_path / "central",
        fleet_broker.service_url,
        ids["svc-ingest"],
        {"rpc": ids["svc-rpc"], "catalog": ids["svc-catalog"]},
        signing_dir=keys.dir,
    )
    config = load_central_config(central)
    log = tmp_path / "serve.log"
    dev, payer = new_device_id(), new_device_id()
    store = open_store(config.central.store_url)
    try:
        with serving(central, log) as serve:
            wait_for(lambda: "RPC service serving" in log.read_text() or serve.poll() is not None,
                     "serve's RPC service up", timeout=30)  # fmt: skip
            assert serve.poll() is None, log.read_text()
            with mtls_kiosk(fleet_broker, fleet_pki, keys, tmp_path / "kiosk", dev) as (agent, _services):
                assert agent.connected.wait(15), fleet_broker.log_text()
                wait_for_device(
                    store, dev, lambda r: r.status.value == "online", timeout=20, what="its birth"
                )
                publish_documents(
                    config.broker_for("catalog"),
                    [Outgoing(FLEET_KEYS, keys.keys_document().to_bytes())],
                    store=store,
                )
                sent = subprocess.run(
                    [KIOSK_CENTRAL, "command", dev, "rebirth", "--config", str(central),
                     "--keys", str(keys.dir), "--wait", "30", "--json"],
                    capture_output=True, text=True, timeout=90, check=False,
                )  # fmt: skip
                assert sent.returncode == 0, sent.stdout + sent.stderr + log.read_text()
                statuses = [a.status for a in store.acks(dev)]
                assert "ACCEPTED" in statuses and "DONE" in statuses
                switched = subprocess.run(
                    [KIOSK_CENTRAL, "issuance", "kill-switch", "on", "--device", dev, "--config", str(central),
                     "--wait", "20", "--json"],
                    capture_output=True, text=True, timeout=90, check=False,
                )  # fmt: skip
                assert switched.returncode == 0, switched.stdout + switched.stderr
                assert json.loads(switched.stdout)["applied"] == [dev]
            # The broker restarts without persistence: serve publishes keys and kill switch again, so a
            # kiosk that was never online before is suspended before it serves anyone.
            fleet_broker.restart()
            with mtls_kiosk(fleet_broker, fleet_pki, keys, tmp_path / "new", dev) as (_agent, services):
                wait_for(lambda: services.kill_switch.suspension("issuance").suspended,
                         "the kill switch on a new kiosk after the broker restart", timeout=30)  # fmt: skip
            orders = open_orders(store, load_sample_catalog())
            order = orders.create([("joseki", 2)], staff="staff1")
            ident = device_identity(fleet_pki, payer, tmp_path / "payer")
            rpc = RpcClient.connect(
                payer,
                BrokerConfig(url=fleet_broker.url, ca_file=ident.ca_file, cert_file=ident.cert_file,
                             key_file=ident.key_file),
            )  # fmt: skip
            try:
                found = OrderResult.model_validate(rpc.call("payment.lookup", {"order_code": order.code}))
                assert found.order.status is OrderStatus.WAITING and found.order.total_yen == 1500
                with pytest.raises(RpcCallError) as missing:
                    rpc.call("payment.lookup", {"order_code": make_order_code("990101", 1)})
                assert missing.value.code is RpcErrorCode.NOT_FOUND
            finally:
                rpc.close()
            assert serve.poll() is None, log.read_text()
    finally:
        store.close()
    broker_log = fleet_broker.log_text()
    for name in ("svc-ingest", "svc-rpc", "svc-catalog"):
        assert f"u'{name}'" in broker_log, f"{name} never connected"


def test_serve_with_only_the_ingest_identity_refuses_to_start(fleet_pki: Pki, tmp_path: Path) -> None:
    """GIVEN a central.toml whose only identity is svc-ingest WHEN `kiosk-central serve` starts THEN it exits
    at once naming the rpc function, the CN found and the svc-rpc certificate to add."""
    central = write_central(tmp_path, "mqtts://127.0.0.1:8884", service_identity(fleet_pki, "svc-ingest"))
    done = subprocess.run(
        [KIOSK_CENTRAL, "serve", "--config", str(central)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode != 0
    assert "rpc function would connect as svc-ingest" in done.stderr
    assert "[broker.identities.rpc]" in done.stderr and "pki/services/svc-rpc/chain.pem" in done.stderr
    assert "Traceback" not in done.stderr
