"""The fleet as the dashboard shows it: presence per branch, component problems, the fast reader."""

from __future__ import annotations

import time

from central_broker.store import DeviceStatus, FleetStore
from central_broker.web.fleet_read import FleetReader
from central_broker.web.fleet_view import build_fleet_view
from central_broker.web.i18n import use_language
from madoguchi.clock import SteppableClock
from madoguchi.contracts.messages import (
    AlertMessage,
    ComponentHealth,
    ComponentStatus,
    HealthMessage,
    PrinterHealth,
    Severity,
    StateMessage,
)


def _birth(epoch: int = 1, branch: str | None = None) -> StateMessage:
    return StateMessage(
        online=True, epoch=epoch, ts=int(time.time() * 1000), boot_id="b", app_ver="0.1.0", branch=branch
    )


def _health(paper: str = "ok", reader: ComponentStatus = ComponentStatus.OK) -> HealthMessage:
    ok = ComponentHealth(status=ComponentStatus.OK)
    return HealthMessage(
        ts=int(time.time() * 1000), epoch=1, app_ver="0.1.0", uptime=1, load=0, mem=1, disk=1,
        printer=PrinterHealth(status=ComponentStatus.OK, paper=paper, cover="closed"),  # type: ignore[arg-type]
        card_reader=ComponentHealth(status=reader, code="pcsc.no_reader"), payment=ok, scanner=ok, touch=ok,
        net=ok, outbox_depth=0, clock_synced=True,
    )  # fmt: skip


def test_fleet_view_groups_branches_and_flags_problems(
    central_store: FleetStore, store_clock: SteppableClock
) -> None:
    """GIVEN kiosks in two cities — one healthy, one out of paper with an alert, one silent, one offline —
    THEN each branch counts them, and 'needs attention' lists exactly the three with problems, offline first."""
    central_store.record_state("jp-999999-k01", _birth())
    central_store.record_health("jp-999999-k01", _health())
    central_store.record_state("jp-999999-k02", _birth())
    central_store.record_health("jp-999999-k02", _health(paper="out"))
    now = int(time.time() * 1000)
    alert = AlertMessage(ts=now, code="printer.paper_out", severity=Severity.ERROR, since=now - 60_000)
    central_store.record_alert("jp-999999-k02", "printer-paper", alert)
    central_store.record_state("jp-131016-k01", _birth())
    central_store.record_state("jp-131016-k02", _birth())
    central_store.record_state("jp-131016-k02", StateMessage(online=False, epoch=1, ts=now, reason="lwt"))
    store_clock.advance(100)
    central_store.record_health("jp-999999-k01", _health())
    central_store.record_health("jp-999999-k02", _health(paper="out"))
    store_clock.advance(100)  # jp-131016-k01 has been silent for 200 s: stale
    central_store.record_health("jp-999999-k01", _health())
    central_store.record_health("jp-999999-k02", _health(paper="out"))
    view = build_fleet_view(central_store.devices(), central_store.alerts(), {"999999": "みどり市"})
    branches = {b.code: b for b in view.branches}
    assert branches["999999"].name == "みどり市" and branches["999999"].counts["online"] == 2
    assert branches["999999"].problems == 1 and branches["999999"].open_alerts == 1
    assert (branches["131016"].counts["stale"], branches["131016"].counts["offline"]) == (1, 1)
    assert [r.device_id for r in view.attention] == ["jp-131016-k02", "jp-131016-k01", "jp-999999-k02"]
    printer = view.attention[-1].problems[0]
    with use_language("en"):
        assert (printer.label, printer.status, printer.text) == ("Receipt printer", "error", "paper out")
    with use_language("ja"):
        assert printer.text == "用紙切れ"
    assert view.totals() == {"unknown": 0, "online": 2, "stale": 1, "offline": 1, "revoked": 0}


def test_fast_reader_matches_the_store_and_follows_health_changes(
    central_store: FleetStore, store_clock: SteppableClock
) -> None:
    """GIVEN kiosks with and without health WHEN read with FleetReader THEN records equal FleetStore.devices();
    WHEN a kiosk's health changes THEN the reader shows the new components (its cache is not stale)."""
    central_store.record_state("jp-999999-k01", _birth())
    central_store.record_health("jp-999999-k01", _health())
    central_store.record_state("jp-999999-k02", _birth())
    central_store.record_state("jp-999999-k03", _birth())
    central_store.record_state("jp-999999-k03", StateMessage(online=False, epoch=1, ts=1, reason="shutdown"))
    reader = FleetReader(central_store)
    assert [record for record, _ in reader.records()] == central_store.devices()
    assert reader.record("jp-999999-k02") == (central_store.device("jp-999999-k02"), [])
    assert reader.record("jp-999999-k99") is None
    store_clock.advance(1)
    central_store.record_health("jp-999999-k01", _health(reader=ComponentStatus.ERROR))
    (record, components), *_ = reader.records()
    assert record == central_store.device("jp-999999-k01")
    assert [c.key for c in components if c.problem] == ["card_reader"]
    store_clock.advance(1000)
    assert [r.status for r, _ in reader.records()] == [
        DeviceStatus.STALE,
        DeviceStatus.STALE,
        DeviceStatus.OFFLINE,
    ]


def test_kiosks_are_grouped_by_their_branch_office_within_the_city(central_store: FleetStore) -> None:
    """GIVEN two kiosks at みどり市's 本庁舎, one at its 北支所 and one that has not reported a branch WHEN the
    fleet is viewed (store records and the fast reader alike) THEN there are three groups named city + office,
    each counting its own kiosks, and each device row belongs to its office."""
    for device, branch in (("jp-999999-k01", "本庁舎"), ("jp-999999-k02", "本庁舎"), ("jp-999999-k03", "北支所"),
                           ("jp-999999-k04", None)):  # fmt: skip
        central_store.record_state(device, _birth(branch=branch))
    assert central_store.device("jp-999999-k03").branch == "北支所"  # type: ignore[union-attr]
    for devices in (central_store.devices(), FleetReader(central_store).records()):
        view = build_fleet_view(devices, [], {"999999": "みどり市"})
        by_name = {b.name: b for b in view.branches}
        assert sorted(by_name) == ["みどり市", "みどり市 北支所", "みどり市 本庁舎"]
        assert by_name["みどり市 本庁舎"].total == 2 and by_name["みどり市 北支所"].total == 1
        rows = {r.device_id: r.branch for r in view.rows}
        assert rows["jp-999999-k01"] == rows["jp-999999-k02"] == by_name["みどり市 本庁舎"].code
        assert "/" not in by_name["みどり市 北支所"].code  # used in URLs
