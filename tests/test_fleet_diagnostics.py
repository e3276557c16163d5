"""`collect_logs`, `flush` and `reboot` end to end: centre → signed command → kiosk agent → up/ack.

The diagnostics bundle travels on `up/diag` through Mosquitto into the central store and is read back
with `kiosk-central diagnostics`; long digit runs and e-mail addresses never leave the kiosk.
"""

from __future__ import annotations

import functools
import gzip
import json
import secrets
import threading
from pathlib import Path

import pytest

from central_broker.broker import MosquittoBroker
from central_broker.catalog_push import SigningKeys
from central_broker.catalog_push.commands import command_message
from central_broker.catalog_push.publisher import Outgoing
from central_broker.cli import main as central_main
from central_broker.ingest import Ingest
from central_broker.store import FleetStore
from madoguchi.contracts.signed import CommandOp
from madoguchi.contracts.topics import FLEET_KEYS
from tests.fixtures.fleet import new_device_id
from tests.fixtures.fleet import wait_for as fleet_wait_for
from tests.fixtures.fleet_signing import publish, trusting_agent

pytestmark = pytest.mark.mosquitto

MY_NUMBER = "123456789018"


wait_for = functools.partial(fleet_wait_for, timeout=15.0)


def _final(store: FleetStore, dev: str, cmd_id: str) -> tuple[str, str] | None:
    acks = [a for a in store.acks(dev, cmd_id) if a.status in ("DONE", "FAILED", "REJECTED")]
    return (acks[-1].status, acks[-1].detail) if acks else None


def test_collect_logs_uploads_a_redacted_bundle_the_operator_can_read(
    ingest: Ingest,
    central_store: FleetStore,
    mosquitto: MosquittoBroker,
    signing_keys: SigningKeys,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """GIVEN a kiosk whose log holds a My Number-like digit run, a card number and an e-mail address
    among 3,000 noisy lines WHEN the operator sends collect_logs THEN the kiosk answers DONE, the bundle
    arrives in several parts, `kiosk-central diagnostics list` shows it complete and `show` prints the
    health, the newest log lines and none of the digits or the address."""
    noise = [
        f"2026-11-22T10:{i // 60:02d}:{i % 60:02d} kiosk-ui: tick {secrets.token_hex(24)}"
        for i in range(3000)
    ]
    planted = f"payment ref A1 resident {MY_NUMBER} card 4111 1111 1111 1111 mail taro.y@example.jp done"
    dev = new_device_id()
    with trusting_agent(
        mosquitto, signing_keys, tmp_path / "k", dev, log_source=lambda: [*noise, planted]
    ) as (_agent, _services):
        publish(mosquitto, Outgoing(FLEET_KEYS, signing_keys.keys_document().to_bytes()))
        command, message = command_message(signing_keys, dev, CommandOp.COLLECT_LOGS)
        publish(mosquitto, message)
        wait_for(lambda: _final(central_store, dev, command.cmd_id), "collect_logs answered")
        status, detail = _final(central_store, dev, command.cmd_id) or ("", "")
        assert status == "DONE" and "diagnostics uploaded" in detail
        wait_for(
            lambda: any(r.complete for r in central_store.diagnostics(dev)), "bundle complete at the centre"
        )

    url = central_store.url
    assert central_main(["diagnostics", "list", "--store", url, "--device", dev, "--json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert record["complete"] and record["parts"] >= 2 and record["cmd_id"] == command.cmd_id

    assert central_main(["diagnostics", "show", "--store", url, dev, command.cmd_id]) == 0
    bundle = json.loads(capsys.readouterr().out)
    assert bundle["device_id"] == dev and bundle["health"]["app_ver"]
    assert bundle["logs"][-1] == "payment ref A1 resident <digits> card <digits> mail <email> done"
    text = json.dumps(bundle)
    assert MY_NUMBER not in text and "4111 1111" not in text and "example.jp" not in text
    assert bundle["logs"][-2].startswith(
        "2026-11-22T10:49:59 kiosk-ui: tick"
    )  # dates and times stay readable

    saved = tmp_path / "bundle.json.gz"
    assert (
        central_main(["diagnostics", "show", "--store", url, dev, command.cmd_id, "--out", str(saved)]) == 0
    )
    assert json.loads(gzip.decompress(saved.read_bytes()))["cmd_id"] == command.cmd_id


def test_flush_answers_with_the_outbox_and_reboot_goes_offline_first(
    ingest: Ingest,
    central_store: FleetStore,
    mosquitto: MosquittoBroker,
    signing_keys: SigningKeys,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GIVEN a kiosk with a reboot hook WHEN the operator sends flush THEN it answers DONE naming what
    waits in the outbox; WHEN reboot is sent THEN it answers DONE, reports itself offline (shutdown, not
    a lost connection) and only then calls the reboot hook; a kiosk without a way to reboot refuses."""
    rebooted = threading.Event()
    offline_when_rebooted: list[str | None] = []
    dev = new_device_id()

    def reboot() -> None:
        record = central_store.device(dev)
        offline_when_rebooted.append(None if record is None else record.offline_reason)
        rebooted.set()

    with trusting_agent(mosquitto, signing_keys, tmp_path / "k", dev, reboot=reboot) as (agent, _services):
        publish(mosquitto, Outgoing(FLEET_KEYS, signing_keys.keys_document().to_bytes()))
        agent.emit_statistic("session", outcome="completed")
        flush, message = command_message(signing_keys, dev, CommandOp.FLUSH)
        publish(mosquitto, message)
        wait_for(lambda: _final(central_store, dev, flush.cmd_id), "flush answered")
        status, detail = _final(central_store, dev, flush.cmd_id) or ("", "")
        assert status == "DONE" and "outbox draining now" in detail

        boot, message = command_message(signing_keys, dev, CommandOp.REBOOT)
        publish(mosquitto, message)
        wait_for(rebooted.is_set, "reboot hook called")
        assert _final(central_store, dev, boot.cmd_id) == ("DONE", "rebooting in 1 s")
        wait_for(lambda: offline_when_rebooted == ["shutdown"] or
                 ((r := central_store.device(dev)) is not None and r.offline_reason == "shutdown"),
                 "offline before the reboot")  # fmt: skip

    monkeypatch.delenv("INVOCATION_ID", raising=False)  # never the real systemd reboot, even under systemd
    other = new_device_id()
    with trusting_agent(mosquitto, signing_keys, tmp_path / "k2", other) as (_agent, _services):
        boot, message = command_message(signing_keys, other, CommandOp.REBOOT)
        publish(mosquitto, message)
        wait_for(lambda: _final(central_store, other, boot.cmd_id), "reboot answered")
        status, detail = _final(central_store, other, boot.cmd_id) or ("", "")
        assert status == "REJECTED" and "not available here" in detail


def test_a_burst_of_commands_is_answered_in_full_even_when_the_mqtt_queue_is_full(
    ingest: Ingest,
    central_store: FleetStore,
    mosquitto: MosquittoBroker,
    signing_keys: SigningKeys,
    tmp_path: Path,
) -> None:
    """GIVEN a kiosk whose MQTT client queues at most 2 messages WHEN eight commands arrive at once (each
    answered twice, plus events and a diagnostics upload) THEN every one is answered ACCEPTED then DONE,
    in order — answers wait in the agent's backlog instead of being dropped."""
    dev = new_device_id()
    with trusting_agent(mosquitto, signing_keys, tmp_path / "k", dev, max_queued=2, log_source=list):
        publish(mosquitto, Outgoing(FLEET_KEYS, signing_keys.keys_document().to_bytes()))
        ops = [CommandOp.REBIRTH, CommandOp.COLLECT_LOGS, CommandOp.FLUSH, CommandOp.MAINTENANCE_ON] * 2
        commands = [command_message(signing_keys, dev, op) for op in ops]
        publish(mosquitto, *(message for _c, message in commands))
        for command, _message in commands:
            wait_for(lambda c=command: [a.status for a in central_store.acks(dev, c.cmd_id)] == ["ACCEPTED", "DONE"],
                     f"{command.op.value} answered")  # fmt: skip
