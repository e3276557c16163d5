"""Staged catalog rollout through real Mosquitto and in-process kiosk agents: stage by stage, and halted
automatically when the stage's kiosks fail."""

from __future__ import annotations

import functools
import json
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from central_broker.accounts import Role
from central_broker.broker import MosquittoBroker
from central_broker.catalog_push import SigningKeys, build_release, publish_release
from central_broker.cli import main as central_main
from central_broker.ingest import Ingest
from central_broker.rollout import Rollout, RolloutError, plan_stages
from central_broker.store import FleetStore
from central_broker.web import WebContext
from kiosk_app.agent.fleet_services import FleetServices
from madoguchi.config.central import local_central_config
from tests.fixtures.fleet import new_device_id
from tests.fixtures.fleet import wait_for as fleet_wait_for
from tests.fixtures.fleet_signing import catalog_body, trusting_agent
from tests.fixtures.web import make_user, signed_in

pytestmark = pytest.mark.mosquitto


wait_for = functools.partial(fleet_wait_for, timeout=15.0)


def _running(services: FleetServices) -> int | None:
    current = services.catalogs.current()
    return None if current is None else current.version


def test_stages_are_planned_deterministically_and_cumulatively() -> None:
    """GIVEN 20 kiosks in two cities THEN the test kiosk comes first, the pilot city next, and 10/50/100 %
    add the rest without repeating anyone; the same input gives the same plan."""
    devices = [f"jp-111111-k{i:02d}" for i in range(10)] + [f"jp-222222-k{i:02d}" for i in range(10)]
    stages = plan_stages(devices, test_device="jp-222222-k05", pilot_municipality="111111")
    assert [s.name for s in stages][:2] == ["test kiosk", "pilot 111111"]
    assert stages[0].devices == ("jp-222222-k05",)
    assert set(stages[1].devices) == {d for d in devices if d.startswith("jp-111111")}
    flat = [d for s in stages for d in s.devices]
    assert sorted(flat) == sorted(devices) and len(flat) == len(set(flat))
    assert (
        plan_stages(list(reversed(devices)), test_device="jp-222222-k05", pilot_municipality="111111")
        == stages
    )
    with pytest.raises(ValueError, match="not among"):
        plan_stages(devices, test_device="jp-333333-k01")


def test_rollout_goes_stage_by_stage_and_waits_for_each(
    ingest: Ingest,
    central_store: FleetStore,
    mosquitto: MosquittoBroker,
    signing_keys: SigningKeys,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """GIVEN five kiosks WHEN catalog v61 is rolled out THEN only the test kiosk gets it first; advancing is
    refused while it is still pending (serving a resident); then each advance reaches the next stage's kiosks
    only, and after the last stage every kiosk runs v61 and the rollout is done."""
    devices = [new_device_id() for _ in range(5)]
    idle = threading.Event()
    broker = local_central_config(Path("/nonexistent-unused"), mosquitto.url).broker
    with ExitStack() as stack:
        agents = {}
        for i, dev in enumerate(devices):
            is_idle = idle.is_set if i == 0 else (lambda: True)
            agents[dev] = stack.enter_context(
                trusting_agent(mosquitto, signing_keys, tmp_path / dev, dev, idle=is_idle)
            )[1]
        rollout = Rollout(central_store, broker, signing_keys)
        status = rollout.start(catalog_body(61), devices, test_device=devices[0], percents=(50, 100))
        targets = [s.targets for s in status.stages]
        assert len(targets) == 3 and targets[0] == 1 and sum(targets) == 5
        with pytest.raises(RolloutError, match="still has 1 of 1 kiosks pending"):
            rollout.advance()
        idle.set()
        wait_for(lambda: _running(agents[devices[0]]) == 61, "the test kiosk runs v61")
        wait_for(lambda: rollout.status().stages[0].current == 1, "stage 0 reported")
        assert all(_running(agents[d]) is None for d in devices[1:])

        for stage in (1, 2):
            rollout.advance()
            members = _stage_members(central_store, stage)
            wait_for(lambda s=stage: rollout.status().stages[s].current == rollout.status().stages[s].targets,
                     f"stage {stage} current")  # fmt: skip
            assert all(_running(agents[d]) == 61 for d in members)
        assert all(_running(agents[d]) == 61 for d in devices)
        assert rollout.advance().state == "done"

    config = tmp_path / "central.toml"
    config.write_text(
        f'[central]\ndata_dir = "{tmp_path}"\nstore_url = "{central_store.url}"\n[broker]\nurl = "{mosquitto.url}"\n'
    )
    assert (
        central_main(
            ["rollout", "status", "--config", str(config), "--keys", str(signing_keys.dir), "--json"]
        )
        == 0
    )
    shown = json.loads(capsys.readouterr().out)
    assert shown["state"] == "done" and [s["current"] for s in shown["stages"]] == [
        s["targets"] for s in shown["stages"]
    ]


def _stage_members(store: FleetStore, stage: int) -> list[str]:
    from sqlalchemy import select

    from central_broker.rollout.runner import rollout_device

    with store.engine.connect() as conn:
        return [
            r[0]
            for r in conn.execute(select(rollout_device.c.device_id).where(rollout_device.c.stage == stage))
        ]


def test_a_failing_stage_halts_the_rollout_and_nothing_more_is_published(
    ingest: Ingest,
    central_store: FleetStore,
    mosquitto: MosquittoBroker,
    signing_keys: SigningKeys,
    tmp_path: Path,
    web_context: WebContext,
    web_client: TestClient,
) -> None:
    """GIVEN a test kiosk that refuses the rolled-out catalog (it already runs a higher version) WHEN the
    rollout's status is checked THEN it halts itself naming the failure rate, advancing is refused, the
    other kiosks never receive the catalog, and the operators' catalog page shows the halted stage."""
    devices = [new_device_id() for _ in range(3)]
    broker = local_central_config(Path("/nonexistent-unused"), mosquitto.url).broker
    with ExitStack() as stack:
        agents = {
            dev: stack.enter_context(trusting_agent(mosquitto, signing_keys, tmp_path / dev, dev))[1]
            for dev in devices
        }
        newer = build_release(catalog_body(90), signing_keys.catalog_key())
        publish_release(broker, signing_keys, newer, [devices[0]], central_store)
        wait_for(lambda: _running(agents[devices[0]]) == 90, "the test kiosk runs v90")

        rollout = Rollout(central_store, broker, signing_keys)
        rollout.start(catalog_body(70), devices, test_device=devices[0], max_failure_rate=0.1)
        wait_for(lambda: rollout.status().state == "halted", "auto-halt")
        status = rollout.status()
        assert "auto-halt: 1 of 1 kiosks in stage 'test kiosk' failed" in status.reason
        with pytest.raises(RolloutError, match="halted"):
            rollout.advance()
        time.sleep(0.5)
        assert [_running(agents[d]) for d in devices[1:]] == [None, None]
        assert {r.device_id: r.desired_version for r in central_store.rollout()}.get(devices[1]) is None

    signed_in(web_client, *make_user(web_context, Role.OPERATOR))
    page = web_client.get("/catalog").text
    assert "catalog version 70" in page and "auto-halt: 1 of 1 kiosks" in page
    assert (
        '<tr data-stage="0"><td>test kiosk</td><td>yes</td><td class="num">1</td><td class="num">0</td><td class="num">1</td>'
        in page
    )
