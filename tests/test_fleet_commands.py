"""Remote commands and the kill switch end to end through Mosquitto, the kiosk agent and the ingest."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from central_broker.broker import MosquittoBroker
from central_broker.catalog_push import SigningKeys
from central_broker.catalog_push.commands import command_message
from central_broker.catalog_push.publisher import Outgoing
from central_broker.ingest import Ingest
from central_broker.store import FleetStore
from kiosk_app.agent.kill_switch import KillSwitch
from madoguchi.contracts.signed import (
    CommandDocument,
    CommandOp,
    ControlDocument,
    FunctionControl,
    PayloadType,
    sign,
)
from madoguchi.contracts.topics import FLEET_CONTROL, FLEET_KEYS, Down, down
from tests.fixtures.fleet import KioskProcess, new_device_id, wait_for
from tests.fixtures.fleet_signing import publish, trusting_agent

pytestmark = pytest.mark.mosquitto


def test_signed_commands_run_once_and_every_one_is_answered(
    ingest: Ingest,
    central_store: FleetStore,
    mosquitto: MosquittoBroker,
    signing_keys: SigningKeys,
    tmp_path: Path,
) -> None:
    """GIVEN a kiosk WHEN the centre sends maintenance_on, collect_logs and rebirth THEN each is answered
    ACCEPTED then DONE, health shows maintenance and the diagnostics bundle is kept on the kiosk; WHEN the same command
    is replayed, an expired one, a forged one, one for another kiosk or print_test_page (no printer
    hook) arrive THEN each is REJECTED with its reason and nothing runs."""
    dev = new_device_id()
    with trusting_agent(mosquitto, signing_keys, tmp_path / "k", dev) as (agent, _services):
        publish(mosquitto, Outgoing(FLEET_KEYS, signing_keys.keys_document().to_bytes()))
        maintenance, m1 = command_message(signing_keys, dev, CommandOp.MAINTENANCE_ON)
        logs, m2 = command_message(signing_keys, dev, CommandOp.COLLECT_LOGS)
        rebirth, m3 = command_message(signing_keys, dev, CommandOp.REBIRTH)
        publish(mosquitto, m1, m2, m3)
        for cmd in (maintenance, logs, rebirth):
            wait_for(lambda c=cmd: [a.status for a in central_store.acks(dev, c.cmd_id)] == ["ACCEPTED", "DONE"],
                     f"{cmd.op} done")  # fmt: skip
        assert agent.maintenance.is_set()
        wait_for(lambda: (r := central_store.device(dev)) is not None and r.health is not None
                 and r.health.maintenance, "maintenance in health")  # fmt: skip
        assert (tmp_path / "k" / "diagnostics" / f"{logs.cmd_id}.json.gz").is_file()

        expired, m_expired = command_message(signing_keys, dev, CommandOp.REBOOT, now=time.time() - 3600)
        other, m_other = command_message(signing_keys, new_device_id(), CommandOp.MAINTENANCE_OFF)
        m_other = Outgoing(down(dev, Down.CMD), m_other.payload, retain=False)
        forged_cmd = CommandDocument(cmd_id="forged-1", device_id=dev, op=CommandOp.MAINTENANCE_OFF,
                                     expires=int(time.time() * 1000) + 60_000)  # fmt: skip
        m_forged = Outgoing(down(dev, Down.CMD),
                            sign(PayloadType.CMD, forged_cmd.to_bytes(), Ed25519PrivateKey.generate()).to_bytes(),
                            retain=False)  # fmt: skip
        printer, m_print = command_message(signing_keys, dev, CommandOp.PRINT_TEST_PAGE)
        publish(mosquitto, m1, m_expired, m_other, m_forged, m_print)
        expected = {
            maintenance.cmd_id: "already executed",
            expired.cmd_id: "expired",
            other.cmd_id: "command is for",
            "unknown": "no valid signature",
            printer.cmd_id: "not available here",
        }
        for ref, reason in expected.items():
            wait_for(
                lambda r=ref: any(a.status == "REJECTED" for a in central_store.acks(dev, r)),
                f"{ref} rejected",
            )
            assert reason in [a for a in central_store.acks(dev, ref) if a.status == "REJECTED"][-1].detail
        assert agent.maintenance.is_set()  # the forged and the foreign maintenance_off did not run


def test_kill_switch_document_is_verified_and_exposed_to_the_app(
    private_mosquitto: MosquittoBroker,
    ingest_for: Callable[[MosquittoBroker], Ingest],
    central_store: FleetStore,
    signing_keys: SigningKeys,
    tmp_path: Path,
) -> None:
    """GIVEN a kiosk of municipality 9xxxxx WHEN a signed control document suspends issuance there THEN
    the app sees issuance suspended with the message within 10 s and payment still allowed; WHEN a
    forged document resumes it THEN it is ignored and an alert is raised; a restarted agent is still
    suspended before any message arrives."""
    mosquitto = private_mosquitto  # its own broker: the retained control document stays out of other tests
    ingest_for(mosquitto)
    dev = new_device_id()
    city = dev.split("-")[1]
    data = tmp_path / "k"
    with trusting_agent(mosquitto, signing_keys, data, dev) as (_agent, services):
        publish(mosquitto, Outgoing(FLEET_KEYS, signing_keys.keys_document().to_bytes()))
        wait_for(lambda: services.trust.keys("control"), "fleet keys")
        stop = ControlDocument(
            version=int(time.time()),
            ts=int(time.time() * 1000),
            issuance=FunctionControl(
                suspended_municipalities=[city], message={"ja": "停止中", "en": "Suspended"}
            ),
        )
        publish(mosquitto, Outgoing(FLEET_CONTROL, sign(PayloadType.CONTROL, stop.to_bytes(),
                                                        signing_keys.catalog_key()).to_bytes()))  # fmt: skip
        wait_for(
            lambda: services.kill_switch.suspension("issuance").suspended, "issuance suspended", timeout=10
        )
        assert services.kill_switch.suspension("issuance").message["ja"] == "停止中"
        assert not services.kill_switch.suspension("payment").suspended
        resume = ControlDocument(version=stop.version + 1, ts=stop.ts + 1)
        forged = sign(PayloadType.CONTROL, resume.to_bytes(), Ed25519PrivateKey.generate())
        publish(mosquitto, Outgoing(FLEET_CONTROL, forged.to_bytes()))
        wait_for(lambda: any(a.alert_id == "control-invalid" for a in central_store.alerts(device_id=dev)),
                 "control alert")  # fmt: skip
        assert services.kill_switch.suspension("issuance").suspended
    again = KillSwitch(dev, services.trust, services.kill_switch._telemetry, data / "trust" / "control.json")
    assert again.suspension("issuance").suspended


def test_kiosk_run_restarts_on_command_with_exit_status_75(
    ingest: Ingest,
    central_store: FleetStore,
    mosquitto: MosquittoBroker,
    signing_keys: SigningKeys,
    kiosk_process: Callable[..., KioskProcess],
    tmp_path: Path,
) -> None:
    """GIVEN `kiosk run --simulate` with the fleet root key installed WHEN the centre sends restart_app
    THEN the kiosk answers DONE, announces its shutdown and exits with status 75 (systemd restarts it)."""
    dev = new_device_id()
    data = tmp_path / "kiosk"
    (data / "trust" / "root").mkdir(parents=True)
    shutil.copyfile(signing_keys.root_public, data / "trust" / "root" / "root.pub")
    kiosk = kiosk_process(mosquitto, dev, data)
    wait_for(lambda: (r := central_store.device(dev)) is not None and r.status.value == "online", "online")
    publish(mosquitto, Outgoing(FLEET_KEYS, signing_keys.keys_document().to_bytes()))
    command, message = command_message(signing_keys, dev, CommandOp.RESTART_APP)
    publish(mosquitto, message)
    assert kiosk.process.wait(20) == 75, kiosk.log()
    assert [a.status for a in central_store.acks(dev, command.cmd_id)] == ["ACCEPTED", "DONE"]
    wait_for(
        lambda: (r := central_store.device(dev)) is not None and r.offline_reason == "shutdown", "shutdown"
    )
