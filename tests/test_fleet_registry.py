"""The fleet registry's rules (contract §3) on a real SQLite store, message by message."""

from __future__ import annotations

from pathlib import Path

import pytest

from central_broker.store import DeviceStatus, FleetStore, Outcome
from kiosk_app.agent import EpochCounter, EpochError, read_system_metrics
from madoguchi.clock import SteppableClock
from madoguchi.contracts.messages import (
    ComponentHealth,
    ComponentStatus,
    HealthMessage,
    PrinterHealth,
    StateMessage,
)

DEV = "jp-131016-k03"
OK = ComponentHealth(status=ComponentStatus.OK)


def birth(epoch: int, ts: int = 1_000) -> StateMessage:
    return StateMessage(
        online=True, epoch=epoch, ts=ts, boot_id=f"boot{epoch}", app_ver="1.2.3", catalog_ver=5
    )


def offline(epoch: int, reason: str = "lwt", ts: int = 2_000) -> StateMessage:
    return StateMessage.model_validate({"online": False, "epoch": epoch, "ts": ts, "reason": reason})


def health(epoch: int, ts: int = 1_500, printer: ComponentStatus = ComponentStatus.OK) -> HealthMessage:
    return HealthMessage(
        ts=ts, epoch=epoch, app_ver="1.2.4", catalog_ver=6, uptime=1, load=0.1, mem=10, disk=20,
        printer=PrinterHealth(status=printer), card_reader=OK, payment=OK, scanner=OK, touch=OK, net=OK,
        outbox_depth=0, clock_synced=True,
    )  # fmt: skip


def status(store: FleetStore) -> DeviceStatus | None:
    record = store.device(DEV)
    return None if record is None else record.status


def test_unknown_device_has_no_record(central_store: FleetStore) -> None:
    assert central_store.device(DEV) is None
    assert central_store.devices() == []


def test_birth_records_versions_and_later_offline_takes_it_offline(central_store: FleetStore) -> None:
    assert central_store.record_state(DEV, birth(4)) is Outcome.ONLINE
    record = central_store.device(DEV)
    assert record is not None
    assert (record.status, record.epoch, record.boot_id, record.app_ver, record.catalog_ver) == (
        DeviceStatus.ONLINE, 4, "boot4", "1.2.3", 5,
    )  # fmt: skip
    assert central_store.record_state(DEV, offline(4, "shutdown")) is Outcome.OFFLINE
    record = central_store.device(DEV)
    assert (
        record is not None and record.status is DeviceStatus.OFFLINE and record.offline_reason == "shutdown"
    )


def test_will_older_than_latest_birth_is_ignored_and_logged_as_event(central_store: FleetStore) -> None:
    central_store.record_state(DEV, birth(4))
    central_store.record_state(DEV, birth(5))
    assert central_store.record_state(DEV, offline(4)) is Outcome.STALE_WILL_IGNORED
    assert status(central_store) is DeviceStatus.ONLINE
    assert [e.code for e in central_store.events(DEV)] == ["online", "online", "stale_will_ignored"]


def test_birth_arriving_after_its_own_death_is_ignored(central_store: FleetStore) -> None:
    """A redelivered old birth must not resurrect a kiosk whose connection already died."""
    central_store.record_state(DEV, birth(4))
    central_store.record_state(DEV, offline(4))
    assert central_store.record_state(DEV, birth(4, ts=1_000)) is Outcome.OLD_BIRTH_IGNORED
    assert status(central_store) is DeviceStatus.OFFLINE
    assert central_store.record_state(DEV, birth(3, ts=500)) is Outcome.OLD_BIRTH_IGNORED
    assert central_store.record_state(DEV, birth(5, ts=3_000)) is Outcome.ONLINE


def test_reset_counter_with_newer_clock_is_accepted(central_store: FleetStore) -> None:
    """A kiosk whose data folder was wiped starts again at epoch 1; its newer birth still counts."""
    central_store.record_state(DEV, birth(40, ts=1_000))
    assert central_store.record_state(DEV, birth(1, ts=9_000)) is Outcome.ONLINE
    record = central_store.device(DEV)
    assert record is not None and record.epoch == 1


def test_offline_of_a_never_seen_kiosk_is_recorded(central_store: FleetStore) -> None:
    assert central_store.record_state(DEV, offline(2)) is Outcome.OFFLINE
    assert status(central_store) is DeviceStatus.OFFLINE


def test_stale_after_the_window_without_health(
    central_store: FleetStore, store_clock: SteppableClock
) -> None:
    central_store.record_state(DEV, birth(1))
    store_clock.advance(179.5)
    assert status(central_store) is DeviceStatus.ONLINE
    store_clock.advance(1)
    assert status(central_store) is DeviceStatus.STALE
    assert central_store.record_health(DEV, health(1)) is Outcome.HEALTH
    assert status(central_store) is DeviceStatus.ONLINE


def test_health_updates_versions_and_revives_after_missed_birth(central_store: FleetStore) -> None:
    """After a broker restart the birth may be missed; health of a newer connection brings it back."""
    central_store.record_state(DEV, birth(1))
    central_store.record_state(DEV, offline(1))
    assert central_store.record_health(DEV, health(1, ts=5_000)) is Outcome.OLD_HEALTH_IGNORED
    assert status(central_store) is DeviceStatus.OFFLINE
    assert central_store.record_health(DEV, health(2, ts=6_000)) is Outcome.ONLINE
    record = central_store.device(DEV)
    assert record is not None
    assert (record.status, record.epoch, record.app_ver, record.catalog_ver) == (
        DeviceStatus.ONLINE,
        2,
        "1.2.4",
        6,
    )


def test_latest_health_wins_and_an_older_one_does_not_overwrite_it(central_store: FleetStore) -> None:
    central_store.record_state(DEV, birth(1))
    central_store.record_health(DEV, health(1, ts=2_000, printer=ComponentStatus.ERROR))
    central_store.record_health(DEV, health(1, ts=1_000, printer=ComponentStatus.OK))
    record = central_store.device(DEV)
    assert record is not None and record.health is not None
    assert record.health.printer.status is ComponentStatus.ERROR and record.health.ts == 2_000


def test_store_survives_reopening(central_store: FleetStore, tmp_path: Path) -> None:
    from central_broker.store import open_store

    central_store.record_state(DEV, birth(3))
    again = open_store(central_store.url, create=False)
    try:
        record = again.device(DEV)
        assert record is not None and record.epoch == 3
        with again.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    finally:
        again.close()


def test_read_only_open_of_a_missing_store_says_what_to_do(tmp_path: Path) -> None:
    from central_broker.store import open_store, sqlite_url
    from madoguchi.errors import ConfigError

    with pytest.raises(ConfigError, match="no central store") as info:
        open_store(sqlite_url(tmp_path / "nope.db"), create=False)
    assert "kiosk-central serve" in str(info.value)


def test_epoch_counter_increases_durably_and_refuses_a_damaged_file(tmp_path: Path) -> None:
    counter = EpochCounter(tmp_path / "agent" / "epoch")
    assert counter.current() == 0
    assert [counter.next(), counter.next()] == [1, 2]
    assert EpochCounter(counter.path).next() == 3
    counter.path.write_text("garbage")
    with pytest.raises(EpochError, match="not a whole number") as info:
        counter.next()
    assert "kiosk-central fleet" in str(info.value)


def test_system_metrics_prefer_the_cpu_thermal_zone(tmp_path: Path) -> None:
    thermal = tmp_path / "thermal"
    for name, kind, milli in (
        ("thermal_zone0", "battery", "30000"),
        ("thermal_zone1", "cpu-thermal", "51234"),
    ):
        (thermal / name).mkdir(parents=True)
        (thermal / name / "type").write_text(kind + "\n")
        (thermal / name / "temp").write_text(milli + "\n")
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       1000 kB\nMemFree:         100 kB\nMemAvailable:    250 kB\n")
    metrics = read_system_metrics(tmp_path, thermal=thermal, meminfo=meminfo)
    assert metrics.cpu_temp == pytest.approx(51.234)
    assert metrics.mem == 75.0
    assert 0 < metrics.disk <= 100
    assert read_system_metrics(tmp_path, thermal=tmp_path / "none", meminfo=meminfo).cpu_temp is None


def test_a_replacement_whose_first_epoch_equals_the_failed_units_last_shows_online(
    central_store: FleetStore,
) -> None:
    """GIVEN a unit that connected once (epoch 1) and died WHEN its replacement (same device id, new data partition,
    so epoch 1 again, later clock, another boot id) announces itself THEN the fleet view shows it online, as the
    operator runbook's section 2 step 4 expects; the dead unit's own birth delivered again stays ignored."""
    device = "jp-131016-k03"
    old = StateMessage(online=True, epoch=1, ts=1_000, boot_id="old-unit", app_ver="0.1.0")
    central_store.record_state(device, old)
    central_store.record_state(
        device, StateMessage.model_validate({"online": False, "epoch": 1, "ts": 2_000, "reason": "lwt"})
    )
    assert central_store.record_state(device, old) is Outcome.OLD_BIRTH_IGNORED
    replacement = StateMessage(online=True, epoch=1, ts=900_000, boot_id="new-unit", app_ver="0.1.0")
    assert central_store.record_state(device, replacement) is Outcome.ONLINE
    assert central_store.device(device).status == DeviceStatus.ONLINE.value
